using FaceDistill.Graphs.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Models.Heads;

/// <summary>
/// The combined angular-margin softmax of InsightFace (Deng et al., ArcFace, 2019, eq. 4):
/// <code>
///   cos θ_j = ŵ_j · x̂                      (weights and embedding L2-normalised)
///   z_j     = s · cos θ_j                  (j ≠ y)
///   z_y     = s · (cos(m1·θ_y + m2) − m3)
///   L       = CE(softmax(z), y)
/// </code>
/// ArcFace: (m1, m2, m3) = (1, 0.5, 0); CosFace (Wang et al., 2018): (1, 0, 0.35); SphereFace-like: m1 > 1.
/// As in arcface_torch, where m1·θ_y + m2 would pass π (so the target logit would stop decreasing in θ) the target
/// falls back to <c>s·(cos θ_y − sin(π − m2)·m2 − m3)</c> (see <see cref="MarginLogits"/>). Without labels
/// (evaluation) the head returns the margin-free <c>s·cos θ</c>.
/// </summary>
public sealed class CombinedMarginHead : Head, IOnnxExportable
{
    private readonly TorchSharp.Modules.Parameter weight;
    public double S { get; }
    public double M1 { get; }
    public double M2 { get; }
    public double M3 { get; }

    public CombinedMarginHead(
        long embeddingSize,
        long classes,
        double s = 64,
        double m1 = 1,
        double m2 = 0.5,
        double m3 = 0
    )
        : base("CombinedMarginHead")
    {
        if (s <= 0)
            throw new ArgumentOutOfRangeException(nameof(s), "scale s must be positive");
        S = s;
        M1 = m1;
        M2 = m2;
        M3 = m3;
        weight = nn.Parameter(nn.init.normal_(empty(classes, embeddingSize), 0, 0.01));
        RegisterComponents();
    }

    public static CombinedMarginHead ArcFace(long d, long c, double s = 64, double m = 0.5) => new(d, c, s, 1, m, 0);

    public static CombinedMarginHead CosFace(long d, long c, double s = 64, double m = 0.35) => new(d, c, s, 1, 0, m);

    /// <summary>Cosines <c>[N, C]</c> between normalised embeddings and class centres.</summary>
    public Tensor Cosine(Tensor x)
    {
        using var xn = nn.functional.normalize(x, dim: 1);
        using var wn = nn.functional.normalize(weight, dim: 1);
        return xn.matmul(wn.t()).clamp(-1.0, 1.0);
    }

    /// <summary>The margin-free prediction s·x̂·Ŵᵀ: the class centres are normalised at export time.</summary>
    public string ExportOnnx(OnnxGraph g, string x)
    {
        using var wn = nn.functional.normalize(weight.detach(), dim: 1);
        using var wt = wn.t();
        var cos = g.Node(
            "MatMul",
            [g.Node("LpNormalization", [x], ("axis", 1L), ("p", 2L)), g.Constant("centres", wt)]
        );
        return g.Node("Mul", [cos, g.Constant("s", [(float)S], [1])]);
    }

    public override Tensor forward(Tensor x, Tensor? labels)
    {
        using var cos = Cosine(x);
        if (labels is null)
            return cos * S;
        return MarginLogits(cos, labels, S, M1, M2, M3);
    }

    public override Tensor Loss(Tensor outputs, Tensor labels) => nn.functional.cross_entropy(outputs, labels);

    /// <summary>The margin loss of a batch in which some faces have no identity (a face pool with
    /// <c>data.identities</c>): <paramref name="targets"/> one-hot for the faces that have one, zero for the others,
    /// the cross-entropy over the margin logits of the labelled rows. A true class distribution (soft labels) is
    /// refused as by any head that does not train on them: a margin is defined for one class.</summary>
    public override Tensor SoftLoss(Tensor outputs, Tensor targets)
    {
        using var sum = targets.sum(1);
        using var max = targets.amax(1);
        using var empty = sum.eq(0);
        using var oneHot = max.eq(1).logical_and(sum.eq(1));
        using var ok = empty.logical_or(oneHot);
        return ok.all().item<bool>() ? SoftCrossEntropy(outputs, targets) : base.SoftLoss(outputs, targets);
    }

    /// <summary>
    /// The pure margin function on cosines: target logit <c>s·(cos(m1·θ + m2) − m3)</c>, others <c>s·cos θ</c>.
    /// When <c>m1·θ + m2 &gt; π</c> the target is <c>s·(cos θ − sin(π − m2)·m2 − m3)</c> (arcface_torch's fallback),
    /// which keeps the logit decreasing in θ. A label below 0 (a face without identity) gets no margin.
    /// </summary>
    public static Tensor MarginLogits(Tensor cosine, Tensor labels, double s, double m1, double m2, double m3)
    {
        using var known = labels.ge(0);
        using var safe = labels.clamp_min(0);
        using var hot = nn.functional.one_hot(safe, cosine.shape[1]).to(cosine.dtype);
        using var oneHot = hot * known.unsqueeze(1).to(cosine.dtype);
        using var target = (cosine * oneHot).sum(1, keepdim: true);
        Tensor marginTarget;
        if (m1 == 1 && m2 == 0)
        {
            marginTarget = target - m3;
        }
        else
        {
            using var theta = target.clamp(-1 + 1e-7, 1 - 1e-7).acos();
            using var angle = theta * m1 + m2;
            using var withMargin = angle.cos() - m3;
            // beyond π the cosine would rise again: use the linear fallback there
            using var fallback = target - Math.Sin(Math.PI - m2) * m2 - m3;
            using var valid = angle.le(Math.PI);
            marginTarget = where(valid, withMargin, fallback);
        }
        using var delta = (marginTarget - target) * oneHot;
        marginTarget.Dispose();
        return (cosine + delta) * s;
    }
}
