using FaceDistill.Core;
using FaceDistill.Graphs.Tfjs;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Faces.Zoo;

/// <summary>Base of the face-api ports: turns tfjs weights into tensors in PyTorch layout (faceapi/SPEC.md §0.2),
/// checking each tfjs shape against the one the network expects, and registers them as buffers. The nets are
/// inference-only (teachers); they run on the CPU in evaluation mode without gradients. After construction every
/// manifest entry must have been used, apart from entries the subclass declares unused (SSD's graph constants) — so a
/// manifest for another architecture is an error naming the file, never a silently half-loaded net.</summary>
public abstract class ZooNet : nn.Module
{
    private readonly TfjsWeights _weights;
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    protected ZooNet(string name, TfjsWeights weights)
        : base(name)
    {
        TorchRuntime.EnsureInitialized();
        _weights = weights;
    }

    public string ManifestPath => _weights.ManifestPath;

    /// <summary>Conv filter: tfjs <c>[kh, kw, in, out]</c> → torch <c>[out, in, kh, kw]</c>.</summary>
    protected Tensor Conv(string name, int kh, int kw, int cin, int cout) =>
        Keep(name, t => t.reshape(kh, kw, cin, cout).permute(3, 2, 0, 1), kh, kw, cin, cout);

    /// <summary>Depthwise filter (multiplier 1): tfjs <c>[kh, kw, C, 1]</c> → torch <c>[C, 1, kh, kw]</c> (groups =
    /// C).</summary>
    protected Tensor Depthwise(string name, int k, int channels) =>
        Keep(name, t => t.reshape(k, k, channels, 1).permute(2, 3, 0, 1), k, k, channels, 1);

    /// <summary>Dense <c>x @ W</c>: tfjs <c>[in, out]</c> → <c>Linear.weight [out, in]</c>.</summary>
    protected Tensor Dense(string name, int cin, int cout) => Keep(name, t => t.reshape(cin, cout).t(), cin, cout);

    protected Tensor Vector(string name, int length) => Keep(name, t => t.alias(), length);

    protected Tensor Raw(string name, params int[] shape) =>
        Keep(name, t => t.reshape(shape.Select(s => (long)s).ToArray()), shape);

    private Tensor Keep(string name, Func<Tensor, Tensor> layout, params int[] tfShape)
    {
        var values = _weights.Get(name, tfShape);
        using var flat = tensor(values);
        using var laid = layout(flat);
        var t = laid.contiguous();
        register_buffer(name.Replace('/', '_').Replace('.', '_'), t);
        _used.Add(name);
        return t;
    }

    /// <summary>Fails when the manifest holds weights this net did not consume (other than <paramref
    /// name="unused"/>).</summary>
    protected void CheckAllUsed(Func<string, bool>? unused = null)
    {
        var extra = _weights
            .Entries.Select(e => e.Name)
            .Where(n => !_used.Contains(n) && !(unused?.Invoke(n) ?? false))
            .ToList();
        if (extra.Count > 0)
            throw FaceDistillException.ForFile(
                _weights.ManifestPath,
                $"{extra.Count} weight(s) this {GetName()} does not use (first: '{extra[0]}') — wrong model file?"
            );
        eval();
    }

    /// <summary>Checks a batch's shape: <c>[N, 3, size, size]</c>.</summary>
    protected void CheckInput(Tensor x, long size)
    {
        if (x.dim() != 4 || x.shape[1] != 3 || (size > 0 && (x.shape[2] != size || x.shape[3] != size)))
            throw new FaceDistillException(
                $"{GetName()}: expected input [N,3,{(size > 0 ? size : "S")},{(size > 0 ? size : "S")}], got "
                    + $"[{string.Join(",", x.shape)}]"
            );
    }
}
