using static TorchSharp.torch;

namespace FaceDistill.Models;

/// <summary>
/// Channels-last (NHWC) memory layout for convolution nets. TorchSharp 0.107 has no <c>memory_format</c> argument, so
/// the layout is made by strides: <c>x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)</c> is the same N×C×H×W
/// tensor with channels innermost, which libtorch's convolution, batch-norm and elementwise kernels propagate to their
/// outputs (<see cref="Backbone.UseChannelsLast"/> re-lays a backbone's input). Values are unchanged; only which
/// kernels run (and so the floating-point summation order) differs.
/// </summary>
public static class MemoryFormat
{
    /// <summary>A 4-d tensor in channels-last layout (a copy unless it already is); other ranks are returned
    /// unchanged.</summary>
    public static Tensor ChannelsLast(Tensor t) =>
        t.dim() == 4 && !IsChannelsLast(t) ? t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : t;

    /// <summary>Whether a 4-d tensor's strides are those of a dense channels-last layout; as in libtorch, the stride of
    /// a dimension of size 1 does not count (a depthwise weight C × 1 × k × k is both layouts at once).</summary>
    public static bool IsChannelsLast(Tensor t)
    {
        if (t.dim() != 4)
            return false;
        long c = t.shape[1],
            h = t.shape[2],
            w = t.shape[3];
        (int Dim, long Stride)[] expected = [(1, 1), (3, c), (2, c * w), (0, c * w * h)];
        return expected.All(e => t.shape[e.Dim] == 1 || t.stride(e.Dim) == e.Stride);
    }
}
