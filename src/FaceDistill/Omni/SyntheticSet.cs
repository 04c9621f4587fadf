using static TorchSharp.torch;

namespace FaceDistill.Omni;

/// <summary>The learned images of a condensation: one leaf tensor <c>[M, 3, S, S]</c> in [−1, 1] (requires grad),
/// grouped by class (class c's images are rows <c>[Offset(c), Offset(c) + CountOf(c))</c>), with the momentum buffer of
/// its SGD update (PyTorch's: v ← μ·v + g, x ← x − η·v).</summary>
public sealed class SyntheticSet : IDisposable
{
    private readonly int[] _offsets;
    private readonly int[] _counts;

    public Tensor Images { get; }
    public Tensor Velocity { get; }
    public int[] Labels { get; }
    public int Classes => _counts.Length;

    public SyntheticSet(float[] pixels, int[] labels, int classes, int size, float[]? velocity = null)
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
    }

    public int CountOf(int c) => _counts[c];

    /// <summary>Class c's images (a view of the leaf, so gradients reach it).</summary>
    public Tensor Of(int c) => Images.narrow(0, _offsets[c], _counts[c]);

    /// <summary>One SGD-with-momentum step on the images from the loss's gradient.</summary>
    public void Step(Tensor loss, double lr, double momentum)
    {
        if (Images.grad is { } old)
            old.zero_();
        loss.backward();
        using var _ = no_grad();
        var g = Images.grad!;
        Velocity.mul_(momentum).add_(g);
        Images.sub_(Velocity * lr);
        g.zero_();
    }

    public float[] PixelData() => Images.detach().contiguous().data<float>().ToArray();

    public float[] VelocityData() => Velocity.contiguous().data<float>().ToArray();

    public void Dispose()
    {
        Images.Dispose();
        Velocity.Dispose();
    }
}
