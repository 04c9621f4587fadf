using static TorchSharp.torch;

namespace FaceDistill.Omni;

/// <summary>
/// Distribution Matching (Zhao &amp; Bilen, "Dataset Condensation with Distribution Matching", WACV 2023): the
/// synthetic images S_c of each class are moved so that, under randomly initialised embedding networks ψ_ϑ (a fresh
/// <see cref="ConvNet"/> every iteration, never trained), their mean embedding equals that of the real images T_c, both
/// seen through the same Siamese augmentation A_ω:
/// <code>
///   min_S  E_{ϑ ~ P_ϑ, ω ~ Ω} Σ_c ‖ (1/|B_c|) Σ_{x ∈ B_c ⊂ T_c} ψ_ϑ(A_ω(x))  −  (1/|S_c|) Σ_{s ∈ S_c} ψ_ϑ(A_ω(s)) ‖²
/// </code>
/// (the maximum mean discrepancy with a linear kernel on random features). No bi-level optimisation and no training of
/// the network: the cheapest condensation method, the default on a CPU.
/// </summary>
public sealed class DistributionMatching(CondenseOptions options, int classes, int imageSize) : ICondensation
{
    /// <summary>‖mean(real) − mean(synthetic)‖² of two embedding batches <c>[n, D]</c>, <c>[m, D]</c>.</summary>
    public static Tensor Loss(Tensor embReal, Tensor embSyn)
    {
        using var diff = embReal.mean([0]) - embSyn.mean([0]);
        return diff.pow(2).sum();
    }

    public double Iterate(int iteration, SyntheticSet syn, RealSampler real, Action<Tensor> step)
    {
        using var scope = NewDisposeScope();
        manual_seed(Core.Seeds.Derive(options.Seed, iteration, 0xD1));
        using var net = new ConvNet(classes, imageSize, options.NetWidth, options.NetDepth);
        foreach (var p in net.parameters())
            p.requires_grad = false;
        var dsa = new SiameseAugmentation(Core.Seeds.Derive(options.Seed, iteration, 0xD5A));
        Tensor? total = null;
        for (int c = 0; c < classes; c++)
        {
            if (syn.CountOf(c) == 0)
                continue;
            var x = real.Batch(c, iteration);
            var s = syn.Of(c);
            var w = dsa.Sample((int)Math.Max(x.shape[0], s.shape[0]));
            var l = Loss(net.Embed(SiameseAugmentation.Apply(x, w)), net.Embed(SiameseAugmentation.Apply(s, w)));
            total = total is null ? l : total + l;
        }
        var loss = total!.item<float>();
        step(total);
        return loss;
    }
}
