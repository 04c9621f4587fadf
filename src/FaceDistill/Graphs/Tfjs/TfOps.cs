using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FaceDistill.Graphs.Tfjs;

/// <summary>TensorFlow semantics on TorchSharp NCHW tensors (faceapi/SPEC.md §0.3). TF "SAME" padding is asymmetric:
/// per dimension <c>out = ceil(in/s)</c>, <c>total = max((out−1)·s + k − in, 0)</c>, <c>before = ⌊total/2⌋</c>,
/// <c>after = total − before</c> — a stride-2 3×3 conv on an even input pads (0, 1), which torch's symmetric
/// <c>padding=1</c> gets wrong by a pixel. Max pooling pads with −∞; every average pool in these nets is VALID.
/// </summary>
public static class TfOps
{
    public static (long Before, long After) SamePad(long size, long kernel, long stride)
    {
        long outSize = (size + stride - 1) / stride;
        long total = Math.Max((outSize - 1) * stride + kernel - size, 0);
        return (total / 2, total - total / 2);
    }

    /// <summary><c>tf.conv2d(x, w, stride, 'same') + bias</c>; <paramref name="weight"/> in torch layout <c>[O,
    /// I/groups, kh, kw]</c>.</summary>
    public static Tensor Conv2dSame(Tensor x, Tensor weight, Tensor? bias, long stride, long groups = 1)
    {
        var (t, b) = SamePad(x.shape[2], weight.shape[2], stride);
        var (l, r) = SamePad(x.shape[3], weight.shape[3], stride);
        if (t == b && l == r && t == l)
            return F.conv2d(x, weight, bias, strides: [stride, stride], padding: [t, l], groups: groups);
        using var padded = F.pad(x, [l, r, t, b]);
        return F.conv2d(padded, weight, bias, strides: [stride, stride], padding: [0, 0], groups: groups);
    }

    /// <summary><c>tf.conv2d(x, w, stride, 'valid') + bias</c>.</summary>
    public static Tensor Conv2dValid(Tensor x, Tensor weight, Tensor? bias, long stride, long groups = 1) =>
        F.conv2d(x, weight, bias, strides: [stride, stride], padding: [0, 0], groups: groups);

    /// <summary><c>tf.maxPool(x, k, s, 'same')</c>: −∞ padding with the asymmetric SAME amounts.</summary>
    public static Tensor MaxPoolSame(Tensor x, long kernel, long stride)
    {
        var (t, b) = SamePad(x.shape[2], kernel, stride);
        var (l, r) = SamePad(x.shape[3], kernel, stride);
        if (t + b + l + r == 0)
            return F.max_pool2d(x, [kernel, kernel], [stride, stride]);
        using var padded = F.pad(x, [l, r, t, b], value: double.NegativeInfinity);
        return F.max_pool2d(padded, [kernel, kernel], [stride, stride]);
    }

    public static Tensor AvgPoolValid(Tensor x, long kernel, long stride) =>
        F.avg_pool2d(x, [kernel, kernel], [stride, stride]);

    /// <summary>Separable conv as tfjs <c>separableConv2d(x, dw, pw, s, 'same') + bias</c>: depthwise (no bias) → 1×1
    /// pointwise → bias.</summary>
    public static Tensor SeparableSame(Tensor x, Tensor depthwise, Tensor pointwise, Tensor bias, long stride)
    {
        using var dw = Conv2dSame(x, depthwise, null, stride, groups: x.shape[1]);
        return F.conv2d(dw, pointwise, bias);
    }

    /// <summary>Per-channel affine <c>x·w[c] + b[c]</c> (NCHW).</summary>
    public static Tensor ChannelAffine(Tensor x, Tensor w, Tensor b)
    {
        using var ww = w.view(1, -1, 1, 1);
        using var bb = b.view(1, -1, 1, 1);
        using var m = x * ww;
        return m + bb;
    }

    /// <summary><c>tf.image.resizeBilinear(x, [h, w], alignCorners = false)</c> with TF's legacy sampling (no
    /// half-pixel centres): output pixel i samples input position <c>i·in/out</c>, interpolating its two neighbours
    /// (the last one clamped). On NCHW tensors.</summary>
    public static Tensor ResizeBilinearLegacy(Tensor x, long height, long width)
    {
        using var scope = NewDisposeScope();
        var y = Axis(x, 2, height);
        return Axis(y, 3, width).MoveToOuterDisposeScope();
    }

    private static Tensor Axis(Tensor x, int dim, long size)
    {
        long n = x.shape[dim];
        if (n == size)
            return x.alias();
        double scale = (double)n / size;
        var src = Enumerable.Range(0, (int)size).Select(i => i * scale).ToArray();
        var lo = src.Select(v => (long)Math.Floor(v)).ToArray();
        var hi = lo.Select(v => Math.Min(v + 1, n - 1)).ToArray();
        var frac = src.Select((v, i) => (float)(v - lo[i])).ToArray();
        var shape = Enumerable.Repeat(1L, (int)x.dim()).ToArray();
        shape[dim] = size;
        var f = tensor(frac).to(x.dtype).reshape(shape);
        var a = x.index_select(dim, tensor(lo));
        var b = x.index_select(dim, tensor(hi));
        return a + (b - a) * f;
    }
}
