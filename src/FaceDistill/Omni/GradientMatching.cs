using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FaceDistill.Omni;

/// <summary>
/// Gradient matching (Zhao, Mopuri &amp; Bilen, "Dataset Condensation with Gradient Matching", ICLR 2021), with
/// Differentiable Siamese Augmentation (Zhao &amp; Bilen, ICML 2021): the synthetic set S is learned so that a network
/// trained on it follows the path of one trained on the real set T — per class, the training gradients of the two
/// match at every point of the path:
/// <code>
///   min_S  E_{θ_0 ~ P_θ} Σ_{t=0}^{T−1} Σ_c D( ∇_θ ℓ(θ_t; A_ω(S_c)),  ∇_θ ℓ(θ_t; A_ω(B_c ⊂ T_c)) )
///   D(A, B) = Σ_layers Σ_i ( 1 − A_i·B_i / (‖A_i‖ ‖B_i‖) )       (A_i: the gradient of output node i; biases ignored)
///   θ_{t+1} = θ_t − η_θ ∇_θ ℓ(θ_t; S)   (ς_θ steps on the synthetic set between matching steps)
/// </code>
/// ℓ is the cross-entropy; the real-side gradient is a constant, the synthetic side is differentiated through
/// (second order) into the pixels. With learned soft labels (<c>condense.softLabels: learned</c>; Sucholutsky &amp;
/// Schonlau, "Soft-Label Dataset Distillation and Text Dataset Distillation", IJCNN 2021; Bohdal, Yang &amp;
/// Hospedales, "Flexible Dataset Distillation: Learn Labels Instead of Images", 2020) the synthetic side's loss is
/// the cross-entropy with each image's label distribution q_i = softmax(u_i),
/// <code>
///   ℓ(θ; S_c) = −(1/|S_c|) Σ_{i ∈ S_c} Σ_k q_ik · log softmax(f_θ(A_ω(s_i)))_k,     min over S and u
/// </code>
/// so the same matching loss descends the label logits too (the inner network steps train on q, fixed). One
/// <see cref="Iterate"/> is one outer loop: a fresh θ_0, then T matching steps
/// (<c>outerLoop</c>), each followed by <c>innerLoop</c> network updates.
/// </summary>
public sealed class GradientMatching(CondenseOptions options, int classes, int imageSize) : ICondensation
{
    /// <summary>D(A, B) of two lists of gradients (same shapes): per layer, per output node, 1 − cosine.</summary>
    public static Tensor Distance(IReadOnlyList<Tensor> a, IReadOnlyList<Tensor> b)
    {
        Tensor? total = null;
        for (int k = 0; k < a.Count; k++)
        {
            var ga = a[k].reshape(a[k].shape[0], -1);
            var gb = b[k].reshape(b[k].shape[0], -1);
            var dot = (ga * gb).sum(1);
            var norm = ga.norm(1) * gb.norm(1) + 1e-6f;
            var d = (1 - dot / norm).sum();
            total = total is null ? d : total + d;
        }
        return total ?? tensor(0f);
    }

    public double Iterate(int iteration, SyntheticSet syn, RealSampler real, Action<Tensor> step)
    {
        using var scope = NewDisposeScope();
        manual_seed(Core.Seeds.Derive(options.Seed, iteration, 0x61));
        using var net = new ConvNet(classes, imageSize, options.NetWidth, options.NetDepth);
        var weights = net.MatchedParameters();
        var all = net.parameters().ToList();
        var dsa = new SiameseAugmentation(Core.Seeds.Derive(options.Seed, iteration, 0x6D5A));
        using var optimizer = optim.SGD(all, options.NetLearningRate, momentum: 0.5);
        double last = 0;
        for (int t = 0; t < options.OuterLoop; t++)
        {
            using var stepScope = NewDisposeScope();
            Tensor? total = null;
            for (int c = 0; c < classes; c++)
            {
                if (syn.CountOf(c) == 0)
                    continue;
                var x = real.Batch(c, iteration * 1000 + t);
                var s = syn.Of(c);
                var w = dsa.Sample((int)Math.Max(x.shape[0], s.shape[0]));
                var yReal = full(x.shape[0], c, dtype: ScalarType.Int64);
                var lossReal = F.cross_entropy(net.call(SiameseAugmentation.Apply(x, w)), yReal);
                var gReal = autograd.grad([lossReal], weights.Cast<Tensor>().ToList()).Select(g => g.detach()).ToList();
                var zSyn = net.call(SiameseAugmentation.Apply(s, w));
                var lossSyn = syn.TargetsOf(c) is { } q
                    ? Models.Heads.Head.SoftCrossEntropy(zSyn, q)
                    : F.cross_entropy(zSyn, full(s.shape[0], c, dtype: ScalarType.Int64));
                var gSyn = autograd.grad(
                    [lossSyn],
                    weights.Cast<Tensor>().ToList(),
                    retain_graph: true,
                    create_graph: true
                );
                var d = Distance(gSyn.ToList(), gReal);
                total = total is null ? d : total + d;
            }
            last = total!.item<float>();
            step(total);
            foreach (var p in all)
                p.grad?.zero_();
            if (t == options.OuterLoop - 1)
                break;
            // θ follows its training path on the (current, fixed) synthetic set
            using var images = syn.Images.detach();
            using var labels = tensor(syn.Labels.Select(y => (long)y).ToArray());
            using var soft = syn.LabelDistributions() is { } qs ? tensor(qs, [images.shape[0], classes]) : null;
            for (int k = 0; k < options.InnerLoop; k++)
            {
                using var innerScope = NewDisposeScope();
                optimizer.zero_grad();
                var w = dsa.Sample((int)images.shape[0]);
                var z = net.call(SiameseAugmentation.Apply(images, w));
                (soft is null ? F.cross_entropy(z, labels) : Models.Heads.Head.SoftCrossEntropy(z, soft)).backward();
                optimizer.step();
            }
        }
        return last;
    }
}
