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
    /// <summary>α: the weight of Binary-KD (the primary group's total probability against the rest).</summary>
    public static readonly NumberKey Alpha = new("alpha", 1.0);

    /// <summary>β: the weight of Primary-KD (the KL within the primary group).</summary>
    public static readonly NumberKey Beta = new("beta", 4.0);

    /// <summary>τ: the teacher's cumulative probability that closes the primary group.</summary>
    public static readonly NumberKey Threshold = new("threshold", 0.93);

    /// <summary>A fixed top-k primary group instead of the threshold (0 = use the threshold).</summary>
    public static readonly IntegerKey TopK = new("topK", 0);

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
        Keys = [.. LogitDistillation.SharedKeys, Alpha, Beta, Threshold, TopK],
        Validate = (c, checks) =>
        {
            var d = c.Distill;
            LogitDistillation.ValidateShared(c, checks);
            LogitDistillation.RequireClasses(c, checks);
            checks.NonNegative(Alpha.Path, d.Get(Alpha));
            checks.NonNegative(Beta.Path, d.Get(Beta));
            checks.Fraction(Threshold.Path, d.Get(Threshold));
            checks.NonNegative(TopK.Path, d.Get(TopK));
        },
        Create = (d, ctx) =>
        {
            double t = d.Get(LogitDistillation.Temperature),
                alpha = d.Get(Alpha),
                beta = d.Get(Beta),
                threshold = d.Get(Threshold);
            int topK = d.Get(TopK);
            return new LogitDistillation(
                "gkd",
                ctx.RequireTeacher("gkd"),
                (zt, zs, y) => Loss(zt, zs, y, t, alpha, beta, threshold, topK),
                ctx.Classes,
                d.Weight,
                d.Get(LogitDistillation.RampEpochs)
            );
        },
    };
}
