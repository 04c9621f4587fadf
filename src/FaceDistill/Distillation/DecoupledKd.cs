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
    /// <summary>α: the weight of TCKD, the target-class KL.</summary>
    public static readonly NumberKey Alpha = new("alpha", 1.0);

    /// <summary>β: the weight of NCKD, the KL over the non-target classes.</summary>
    public static readonly NumberKey Beta = new("beta", 8.0);

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
        Keys = [.. LogitDistillation.SharedKeys, Alpha, Beta],
        Validate = (c, checks) =>
        {
            LogitDistillation.ValidateShared(c, checks);
            LogitDistillation.RequireClasses(c, checks);
            checks.NonNegative(Alpha.Path, c.Distill.Get(Alpha));
            checks.NonNegative(Beta.Path, c.Distill.Get(Beta));
        },
        Create = (d, ctx) =>
        {
            double t = d.Get(LogitDistillation.Temperature),
                alpha = d.Get(Alpha),
                beta = d.Get(Beta);
            return new LogitDistillation(
                "dkd",
                ctx.RequireTeacher("dkd"),
                (zt, zs, y) => Loss(zt, zs, y, t, alpha, beta),
                ctx.Classes,
                d.Weight,
                d.Get(LogitDistillation.RampEpochs)
            );
        },
    };
}
