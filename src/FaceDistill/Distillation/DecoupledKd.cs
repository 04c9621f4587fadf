using FaceDistill.Config;
using static TorchSharp.torch;

namespace FaceDistill.Distillation;

/// <summary>
/// Decoupled Knowledge Distillation (Zhao, Cui, Song, Qiu, Liang — "Decoupled Knowledge Distillation", CVPR 2022):
/// <see cref="GroupedKlDecomposition"/> with the primary group P = {target},
/// <code>
///   L_DKD = T² · mean_i (α · TCKD + β · NCKD),   TCKD = KL(b^t ‖ b^s),  NCKD = KL(p̂^t_S ‖ p̂^s_S)   (α = 1, β = 8)
/// </code>
/// Config: <c>distill.method: dkd</c>, keys <c>temperature, alpha, beta, rampEpochs, centroidScale</c>.
/// </summary>
public static class DecoupledKd
{
    public static Tensor Loss(
        Tensor teacherLogits,
        Tensor studentLogits,
        Tensor labels,
        double temperature,
        double alpha,
        double beta
    ) =>
        GroupedKlDecomposition.Loss(
            teacherLogits,
            studentLogits,
            labels,
            temperature,
            alpha,
            beta: 0,
            lambda: beta,
            PrimaryGroupRule.TargetOnly,
            threshold: 0,
            k: 0
        );

    public static readonly DistillMethod Method = new()
    {
        Name = "dkd",
        Paper = "Zhao et al., Decoupled Knowledge Distillation, CVPR 2022",
        Teacher = TeacherOutput.Logits,
        Keys = new Dictionary<string, object?>(LogitDistillation.SharedKeys) { ["alpha"] = 1.0, ["beta"] = 8.0 },
        Validate = (c, checks) =>
        {
            LogitDistillation.ValidateShared(c, checks);
            LogitDistillation.RequireClasses(c, checks);
            checks.NonNegative("distill.alpha", c.Distill.Alpha!.Value);
            checks.NonNegative("distill.beta", c.Distill.Beta!.Value);
        },
        Create = (d, ctx) =>
        {
            double t = d.Temperature!.Value,
                alpha = d.Alpha!.Value,
                beta = d.Beta!.Value;
            return new LogitDistillation(
                "dkd",
                ctx.RequireTeacher("dkd"),
                (zt, zs, y) => Loss(zt, zs, y, t, alpha, beta),
                ctx.Classes,
                d.Weight,
                d.RampEpochs!.Value
            );
        },
    };
}
