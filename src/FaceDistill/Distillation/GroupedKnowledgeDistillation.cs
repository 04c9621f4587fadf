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
        Binary.Dispose(); Primary.Dispose(); Secondary.Dispose(); TeacherPrimaryMass.Dispose();
    }
}

/// <summary>
/// Grouped Knowledge Distillation (Zhao, Wang, Li, Liu, Zhang — "Grouped Knowledge Distillation for Deep Face
/// Recognition", AAAI 2023), with Hinton KD and DKD as the same decomposition under other groupings.
/// <code>
///   p = softmax(z / T)  (teacher p^t, student p^s; z are margin logits)
///   P = primary group: teacher's top classes until Σ p^t ≥ τ (τ = 0.93), target class always in P;  S = the rest
///   b = [Σ_P p, Σ_S p]                       p̂_P = p_P / b_P,   p̂_S = p_S / b_S
///   KL(p^t ‖ p^s) = KL(b^t ‖ b^s) + b^t_P · KL(p̂^t_P ‖ p̂^s_P) + b^t_S · KL(p̂^t_S ‖ p̂^s_S)     (exact identity)
///                 =   Binary-KD   + b^t_P ·   Primary-KD       + b^t_S ·   Secondary-KD
///   L_GKD = T² · (α · Binary-KD + β · Primary-KD + λ · Secondary-KD),   α = 1, β = 4, λ = 0 (Secondary-KD dropped)
///   L_KD (Hinton)  = T² · KL(p^t ‖ p^s)
///   L_DKD (Zhao et al., CVPR 2022) = T² · (α · TCKD + β · NCKD), the same parts with P = {target}
/// </code>
/// The GKD paper ramps the KD weight as <c>min(epoch / 10, 1)</c> (see <see cref="Ramp"/>). Logs take an ε inside
/// (<c>log(x + ε)</c>): implementations of this family are known to hit ∞ and NaN where a group's mass underflows.
/// </summary>
public static class GroupedKnowledgeDistillation
{
    public const double Epsilon = 1e-8;

    public static double Ramp(double epoch, double epochs = 10) => Math.Min(epoch / epochs, 1.0);

    /// <summary>Primary-group mask <c>[N, C]</c> from the teacher's softened probabilities.</summary>
    public static Tensor PrimaryMask(Tensor teacherProbs, Tensor labels, PrimaryGroupRule rule, double threshold = 0.93, int k = 5)
    {
        using var scope = NewDisposeScope();
        var mask = zeros_like(teacherProbs, dtype: ScalarType.Bool);
        if (rule != PrimaryGroupRule.TargetOnly)
        {
            var (sorted, order) = teacherProbs.sort(dim: 1, descending: true);
            Tensor keepSorted;
            if (rule == PrimaryGroupRule.TopK)
            {
                keepSorted = arange(teacherProbs.shape[1], device: teacherProbs.device).lt(k).unsqueeze(0).expand_as(sorted);
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
    public static GroupedKl Decompose(Tensor teacherLogits, Tensor studentLogits, Tensor primaryMask, double temperature)
    {
        using var scope = NewDisposeScope();
        var pt = softmax(teacherLogits / temperature, 1);
        var ps = softmax(studentLogits / temperature, 1);
        var m = primaryMask.to(pt.dtype);
        var notM = 1 - m;
        var tP = (pt * m).sum(1); var tS = (pt * notM).sum(1);
        var sP = (ps * m).sum(1); var sS = (ps * notM).sum(1);
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
        return new GroupedKl(binary.MoveToOuterDisposeScope(), primary.MoveToOuterDisposeScope(),
            secondary.MoveToOuterDisposeScope(), tP.MoveToOuterDisposeScope());
    }

    /// <summary>L_GKD = T²·(α·Binary + β·Primary + λ·Secondary), mean over the batch.</summary>
    public static Tensor Loss(Tensor teacherLogits, Tensor studentLogits, Tensor labels, double temperature = 4, double alpha = 1, double beta = 4,
        double lambda = 0, PrimaryGroupRule rule = PrimaryGroupRule.CumulativeProbability, double threshold = 0.93, int k = 5)
    {
        using var scope = NewDisposeScope();
        using var pt = softmax(teacherLogits.detach() / temperature, 1);
        var mask = PrimaryMask(pt, labels, rule, threshold, k);
        using var parts = Decompose(teacherLogits.detach(), studentLogits, mask, temperature);
        var loss = (parts.Binary * alpha + parts.Primary * beta + parts.Secondary * lambda).mean() * (temperature * temperature);
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>Hinton et al. (2015): T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)), mean over the batch.</summary>
    public static Tensor HintonKd(Tensor teacherLogits, Tensor studentLogits, double temperature = 4)
    {
        using var scope = NewDisposeScope();
        var logPt = nn.functional.log_softmax(teacherLogits.detach() / temperature, 1);
        var logPs = nn.functional.log_softmax(studentLogits / temperature, 1);
        var kl = (logPt.exp() * (logPt - logPs)).sum(1).mean() * (temperature * temperature);
        return kl.MoveToOuterDisposeScope();
    }

    /// <summary>Decoupled KD (Zhao et al., CVPR 2022): T²·(α·TCKD + β·NCKD), TCKD/NCKD = the binary and within-non-target
    /// parts for P = {target}. Defaults α = 1, β = 8.</summary>
    public static Tensor DecoupledKd(Tensor teacherLogits, Tensor studentLogits, Tensor labels, double temperature = 4, double alpha = 1, double beta = 8) =>
        Loss(teacherLogits, studentLogits, labels, temperature, alpha, lambda: beta, beta: 0, rule: PrimaryGroupRule.TargetOnly);
}
