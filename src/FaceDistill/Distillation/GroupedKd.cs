using FaceDistill.Config;
using static TorchSharp.torch;

namespace FaceDistill.Distillation;

/// <summary>Grouped Knowledge Distillation (Zhao, Wang, Li, Liu, Zhang — "Grouped Knowledge Distillation for Deep Face
/// Recognition", AAAI 2023): <see cref="GroupedKlDecomposition"/> with the primary group chosen by the teacher,
/// <code>
///   P = the teacher's top classes until Σ p^t ≥ τ (τ = 0.93; or a fixed top-k), target class always in P
///   L_GKD = T² · mean_i (α · Binary-KD + β · Primary-KD)     (α = 1, β = 4; Secondary-KD dropped)
/// </code>
/// The paper ramps the weight as <c>min(epoch / 10, 1)</c> (<c>distill.rampEpochs: 10</c>). Config: <c>distill.method:
/// gkd</c>, keys <c>temperature, alpha, beta, threshold, topK, rampEpochs, centroidScale</c>.</summary>
public static class GroupedKd
{
    public static Tensor Loss(
        Tensor teacherLogits,
        Tensor studentLogits,
        Tensor labels,
        double temperature,
        double alpha,
        double beta,
        double threshold,
        int topK
    ) =>
        GroupedKlDecomposition.Loss(
            teacherLogits,
            studentLogits,
            labels,
            temperature,
            alpha,
            beta,
            lambda: 0,
            topK > 0 ? PrimaryGroupRule.TopK : PrimaryGroupRule.CumulativeProbability,
            threshold,
            topK
        );

    public static readonly DistillMethod Method = new()
    {
        Name = "gkd",
        Paper = "Zhao et al., Grouped Knowledge Distillation for Deep Face Recognition, AAAI 2023",
        Teacher = TeacherOutput.Logits,
        Keys = new Dictionary<string, object?>(LogitDistillation.SharedKeys)
        {
            ["alpha"] = 1.0,
            ["beta"] = 4.0,
            ["threshold"] = 0.93,
            ["topK"] = 0,
        },
        Validate = (c, checks) =>
        {
            var d = c.Distill;
            LogitDistillation.ValidateShared(c, checks);
            LogitDistillation.RequireClasses(c, checks);
            checks.NonNegative("distill.alpha", d.Alpha!.Value);
            checks.NonNegative("distill.beta", d.Beta!.Value);
            checks.Fraction("distill.threshold", d.Threshold!.Value);
            checks.NonNegative("distill.topK", d.TopK!.Value);
        },
        Create = (d, ctx) =>
        {
            double t = d.Temperature!.Value,
                alpha = d.Alpha!.Value,
                beta = d.Beta!.Value,
                threshold = d.Threshold!.Value;
            int topK = d.TopK!.Value;
            return new LogitDistillation(
                "gkd",
                ctx.RequireTeacher("gkd"),
                (zt, zs, y) => Loss(zt, zs, y, t, alpha, beta, threshold, topK),
                ctx.Classes,
                d.Weight,
                d.RampEpochs!.Value
            );
        },
    };
}
