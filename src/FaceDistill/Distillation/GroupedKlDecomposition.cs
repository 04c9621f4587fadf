using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Distillation;

/// <summary>How the primary group of classes is chosen, per sample, from the teacher's softened prediction.</summary>
public enum PrimaryGroupRule
{
    /// <summary>Top classes until their cumulative probability reaches the threshold (GKD's adaptive rule).</summary>
    CumulativeProbability,

    /// <summary>The k most probable classes (GKD's fixed variant).</summary>
    TopK,

    /// <summary>The target class alone: this makes the decomposition DKD's target / non-target split.</summary>
    TargetOnly,
}

/// <summary>The three KL parts of the grouped decomposition, each per sample <c>[N]</c>.</summary>
public sealed record GroupedKl(Tensor Binary, Tensor Primary, Tensor Secondary, Tensor TeacherPrimaryMass) : IDisposable
{
    public void Dispose()
    {
        Binary.Dispose();
        Primary.Dispose();
        Secondary.Dispose();
        TeacherPrimaryMass.Dispose();
    }
}

/// <summary>
/// The decomposition of the KL divergence between teacher and student class distributions into a binary part (the mass
/// of a primary group against the rest) and the two within-group parts. Hinton KD is the whole sum, DKD (Zhao et al.,
/// CVPR 2022) weights its parts with P = {target}, GKD (Zhao et al., AAAI 2023) with P = the teacher's top classes and
/// drops the secondary part: <see cref="HintonKd"/>, <see cref="DecoupledKd"/>, <see cref="GroupedKd"/>.
/// <code>
///   p = softmax(z / T)  (teacher p^t, student p^s; z are margin logits)
///   P = primary group (per sample, from the teacher; the target class always in P);  S = the rest
///   b = [Σ_P p, Σ_S p]                       p̂_P = p_P / b_P,   p̂_S = p_S / b_S
///   KL(p^t ‖ p^s) = KL(b^t ‖ b^s) + b^t_P · KL(p̂^t_P ‖ p̂^s_P) + b^t_S · KL(p̂^t_S ‖ p̂^s_S)     (exact identity)
///                 =   Binary-KD   + b^t_P ·   Primary-KD       + b^t_S ·   Secondary-KD
///   L(α, β, λ) = T² · mean_i (α · Binary-KD + β · Primary-KD + λ · Secondary-KD)
/// </code>
/// Logs take an ε inside (<c>log(x + ε)</c>): implementations of this family are known to hit ∞ and NaN where a
/// group's mass underflows.
/// </summary>
public static class GroupedKlDecomposition
{
    public const double Epsilon = 1e-8;

    /// <summary>The linear ramp of a distillation weight, <c>min(epoch / epochs, 1)</c> (GKD uses 10 epochs).</summary>
    public static double Ramp(double epoch, double epochs) => Math.Min(epoch / epochs, 1.0);

    /// <summary>Primary-group mask <c>[N, C]</c> from the teacher's softened probabilities.</summary>
    public static Tensor PrimaryMask(Tensor teacherProbs, Tensor labels, PrimaryGroupRule rule, double threshold, int k)
    {
        using var scope = NewDisposeScope();
        var mask = zeros_like(teacherProbs, dtype: ScalarType.Bool);
        if (rule != PrimaryGroupRule.TargetOnly)
        {
            var (sorted, order) = teacherProbs.sort(dim: 1, descending: true);
            Tensor keepSorted;
            if (rule == PrimaryGroupRule.TopK)
            {
                keepSorted = arange(teacherProbs.shape[1], device: teacherProbs.device)
                    .lt(k)
                    .unsqueeze(0)
                    .expand_as(sorted);
            }
            else
            {
                // include class j while the mass before it is below τ (so the class that crosses τ is included)
                var before = sorted.cumsum(1) - sorted;
                keepSorted = before.lt(threshold);
            }
            mask = mask.scatter(1, order, keepSorted);
        }
        mask = mask.scatter(1, labels.unsqueeze(1), ones_like(labels.unsqueeze(1), dtype: ScalarType.Bool));
        return mask.MoveToOuterDisposeScope();
    }

    /// <summary>Binary, Primary and Secondary KL (per sample) of teacher vs student logits at temperature T.</summary>
    public static GroupedKl Decompose(
        Tensor teacherLogits,
        Tensor studentLogits,
        Tensor primaryMask,
        double temperature
    )
    {
        using var scope = NewDisposeScope();
        var pt = softmax(teacherLogits / temperature, 1);
        var ps = softmax(studentLogits / temperature, 1);
        var m = primaryMask.to(pt.dtype);
        var notM = 1 - m;
        var tP = (pt * m).sum(1);
        var tS = (pt * notM).sum(1);
        var sP = (ps * m).sum(1);
        var sS = (ps * notM).sum(1);
        Tensor Log(Tensor x) => (x + Epsilon).log();
        var binary = tP * (Log(tP) - Log(sP)) + tS * (Log(tS) - Log(sS));
        Tensor Within(Tensor mask, Tensor tMass, Tensor sMass)
        {
            var ptHat = pt * mask / (tMass + Epsilon).unsqueeze(1);
            var psHat = ps * mask / (sMass + Epsilon).unsqueeze(1);
            return (ptHat * (Log(ptHat) - Log(psHat))).sum(1);
        }
        var primary = Within(m, tP, sP);
        var secondary = Within(notM, tS, sS);
        return new GroupedKl(
            binary.MoveToOuterDisposeScope(),
            primary.MoveToOuterDisposeScope(),
            secondary.MoveToOuterDisposeScope(),
            tP.MoveToOuterDisposeScope()
        );
    }

    /// <summary>T²·mean(α·Binary + β·Primary + λ·Secondary) of teacher vs student logits (teacher detached).</summary>
    public static Tensor Loss(
        Tensor teacherLogits,
        Tensor studentLogits,
        Tensor labels,
        double temperature,
        double alpha,
        double beta,
        double lambda,
        PrimaryGroupRule rule,
        double threshold,
        int k
    )
    {
        using var scope = NewDisposeScope();
        using var pt = softmax(teacherLogits.detach() / temperature, 1);
        var mask = PrimaryMask(pt, labels, rule, threshold, k);
        using var parts = Decompose(teacherLogits.detach(), studentLogits, mask, temperature);
        var loss =
            (parts.Binary * alpha + parts.Primary * beta + parts.Secondary * lambda).mean()
            * (temperature * temperature);
        return loss.MoveToOuterDisposeScope();
    }
}
