using static TorchSharp.torch;

namespace FaceDistill.Omni;

/// <summary>The learned images of a condensation: one leaf tensor <c>[M, 3, S, S]</c> in [−1, 1] (requires grad),
/// grouped by class (class c's images are rows <c>[Offset(c), Offset(c) + CountOf(c))</c>), with the momentum buffer of
/// its SGD update (PyTorch's: v ← μ·v + g, x ← x − η·v). Where labels are learned (<c>condense.softLabels:
/// learned</c>), also one leaf of label logits <c>[M, C]</c> — image i's label is q_i = softmax(u_i), initialised at
/// u_i = ln(9(C − 1))·onehot(y_i) so that q_i puts 0.9 on its class — updated by the same rule at its own
/// rate.</summary>
public sealed class SyntheticSet : IDisposable
{
    private readonly int[] _offsets;
    private readonly int[] _counts;

    public Tensor Images { get; }
    public Tensor Velocity { get; }

    /// <summary>The learned label logits u <c>[M, C]</c>, or null for hard labels.</summary>
    public Tensor? LabelLogits { get; }
    public Tensor? LabelVelocity { get; }
    public int[] Labels { get; }
    public int Classes => _counts.Length;

    public SyntheticSet(
        float[] pixels,
        int[] labels,
        int classes,
        int size,
        float[]? velocity = null,
        float[]? labelLogits = null,
        float[]? labelVelocity = null
    )
    {
        if (labels.Zip(labels.Skip(1)).Any(p => p.First > p.Second))
            throw new ArgumentException("synthetic images must be grouped by class", nameof(labels));
        Labels = labels;
        _counts = new int[classes];
        foreach (var y in labels)
            _counts[y]++;
        _offsets = new int[classes];
        for (int c = 1; c < classes; c++)
            _offsets[c] = _offsets[c - 1] + _counts[c - 1];
        Images = tensor(pixels, [labels.Length, 3, size, size]).requires_grad_(true);
        Velocity = velocity is null ? zeros_like(Images) : tensor(velocity, [labels.Length, 3, size, size]);
        if (labelLogits is not null)
        {
            LabelLogits = tensor(labelLogits, [labels.Length, classes]).requires_grad_(true);
            LabelVelocity = labelVelocity is null
                ? zeros_like(LabelLogits)
                : tensor(labelVelocity, [labels.Length, classes]);
        }
    }

    /// <summary>The initial logits of learned labels: ln(9(C − 1)) at each image's class, 0 elsewhere (q = 0.9 on
    /// the class, the rest shared evenly).</summary>
    public static float[] InitialLabelLogits(int[] labels, int classes)
    {
        var l = new float[labels.Length * classes];
        float own = (float)Math.Log(9.0 * Math.Max(1, classes - 1));
        for (int i = 0; i < labels.Length; i++)
            l[i * classes + labels[i]] = own;
        return l;
    }

    /// <summary>Class c's label distributions q <c>[n_c, C]</c> (with gradients into u), or null for hard
    /// labels.</summary>
    public Tensor? TargetsOf(int c) =>
        LabelLogits is null ? null : nn.functional.softmax(LabelLogits.narrow(0, _offsets[c], _counts[c]), 1);

    /// <summary>Every image's label distribution, row-major <c>[M, C]</c>, or null for hard labels.</summary>
    public float[]? LabelDistributions()
    {
        if (LabelLogits is null)
            return null;
        using var _ = no_grad();
        using var q = nn.functional.softmax(LabelLogits.detach(), 1);
        return q.contiguous().data<float>().ToArray();
    }

    public float[]? LabelLogitData() => LabelLogits?.detach().contiguous().data<float>().ToArray();

    public float[]? LabelVelocityData() => LabelVelocity?.contiguous().data<float>().ToArray();

    public int CountOf(int c) => _counts[c];

    /// <summary>Class c's images (a view of the leaf, so gradients reach it).</summary>
    public Tensor Of(int c) => Images.narrow(0, _offsets[c], _counts[c]);

    /// <summary>One SGD-with-momentum step on the images (and learned label logits, at
    /// <paramref name="labelLr"/>) from the loss's gradient.</summary>
    public void Step(Tensor loss, double lr, double momentum, double labelLr = 0)
    {
        if (Images.grad is { } old)
            old.zero_();
        if (LabelLogits?.grad is { } oldLabels)
            oldLabels.zero_();
        loss.backward();
        using var _ = no_grad();
        Descend(Images, Velocity, lr, momentum);
        if (LabelLogits is not null && LabelLogits.grad is not null)
            Descend(LabelLogits, LabelVelocity!, labelLr, momentum);
    }

    private static void Descend(Tensor x, Tensor v, double lr, double momentum)
    {
        var g = x.grad!;
        v.mul_(momentum).add_(g);
        x.sub_(v * lr);
        g.zero_();
    }

    public float[] PixelData() => Images.detach().contiguous().data<float>().ToArray();

    public float[] VelocityData() => Velocity.contiguous().data<float>().ToArray();

    public void Dispose()
    {
        Images.Dispose();
        Velocity.Dispose();
        LabelLogits?.Dispose();
        LabelVelocity?.Dispose();
    }
}
