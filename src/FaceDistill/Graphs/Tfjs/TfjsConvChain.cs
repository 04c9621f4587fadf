namespace FaceDistill.Graphs.Tfjs;

/// <summary>
/// A convolution and the per-channel affine map and clipping that follow it in a frozen TF graph, found once at load
/// time so that they run as one convolution with a bias and one clamp: batch norm exported as
/// <c>y = conv(x, W)·s + b</c> is <c>conv(x, W·s) + b</c> (s, b per output channel; the scale is folded into the
/// kernel on every forward pass, so the graph's own weights stay the parameters and gradients reach them), and any
/// sequence of Relu, Relu6, Minimum(c), Maximum(c) with scalar constants is one <c>clamp(x, lo, hi)</c>, because
/// clamps compose: <c>max(clamp(x, lo, hi), c) = clamp(x, max(lo, c), max(hi, c))</c> (and likewise for min).
/// </summary>
/// <param name="Conv">The convolution node (Conv2D or DepthwiseConv2dNative).</param>
/// <param name="Scale">The constant of the Mul that follows, or null.</param>
/// <param name="Bias">The constant of the Add/AddV2/BiasAdd that follows, or null.</param>
/// <param name="Lo">Lower clamp bound (−∞: none).</param>
/// <param name="Hi">Upper clamp bound (+∞: none).</param>
/// <param name="End">The last node of the chain: the one whose value the chain produces.</param>
/// <param name="Absorbed">The nodes after <paramref name="Conv"/> that the chain computes (not run on their
/// own).</param>
public sealed record TfjsConvChain(
    GraphNode Conv,
    string? Scale,
    string? Bias,
    double Lo,
    double Hi,
    string End,
    IReadOnlyList<string> Absorbed
)
{
    /// <summary>Chains of the graph, keyed by their convolution node. A node joins a chain only when it is the sole
    /// consumer of the chain so far, that value is not an output, and its other operand is a constant of the right
    /// size (one value per output channel, or a scalar).</summary>
    public static Dictionary<string, TfjsConvChain> Find(TfjsGraph graph, IReadOnlyCollection<string> outputs)
    {
        var consumers = new Dictionary<string, List<GraphNode>>(StringComparer.Ordinal);
        foreach (var n in graph.Nodes)
        foreach (var i in n.Inputs)
            (consumers.TryGetValue(i, out var l) ? l : consumers[i] = []).Add(n);
        var keep = outputs.ToHashSet(StringComparer.Ordinal);
        var chains = new Dictionary<string, TfjsConvChain>(StringComparer.Ordinal);
        foreach (var conv in graph.Nodes.Where(n => n.Op is "Conv2D" or "DepthwiseConv2dNative"))
        {
            if (!graph.Constants.TryGetValue(conv.Inputs[1], out var kernel) || kernel.Floats is null)
                continue;
            long channels = conv.Op == "Conv2D" ? kernel.Shape[^1] : kernel.Shape[^2] * kernel.Shape[^1];
            string end = conv.Name;
            string? scale = null,
                bias = null;
            double lo = double.NegativeInfinity,
                hi = double.PositiveInfinity;
            var absorbed = new List<string>();
            while (
                !keep.Contains(end)
                && consumers.TryGetValue(end, out var next)
                && next.Count == 1
                && Step(next[0], end) is { } step
            )
            {
                var n = next[0];
                if (step == "scale" && scale is null && bias is null && absorbed.Count == 0)
                    scale = Other(n, end);
                else if (
                    step == "bias"
                    && bias is null
                    && double.IsNegativeInfinity(lo)
                    && double.IsPositiveInfinity(hi)
                )
                    bias = Other(n, end);
                else if (step == "clip")
                    (lo, hi) = Clip(n, Other(n, end), lo, hi);
                else
                    break;
                absorbed.Add(n.Name);
                end = n.Name;
            }
            if (absorbed.Count > 0)
                chains[conv.Name] = new TfjsConvChain(conv, scale, bias, lo, hi, end, absorbed);

            string? Step(GraphNode n, string from)
            {
                if (n.Op is "Relu" or "Relu6")
                    return "clip";
                if (n.Inputs.Count != 2 || !n.Inputs.Contains(from))
                    return null;
                var other = Other(n, from);
                if (other is null || !graph.Constants.TryGetValue(other, out var c) || c.Floats is null)
                    return null;
                if (c.Shape.Length > 0 && c.Shape[..^1].Any(d => d != 1))
                    return null; // not a per-channel vector
                return n.Op switch
                {
                    "Mul" when c.Floats.Length == channels || c.Floats.Length == 1 => "scale",
                    "Add" or "AddV2" or "BiasAdd" when c.Floats.Length == channels || c.Floats.Length == 1 => "bias",
                    "Minimum" or "Maximum" when c.Floats.Length == 1 => "clip",
                    _ => null,
                };
            }
        }
        return chains;

        string? Other(GraphNode n, string from) =>
            n.Op is "Relu" or "Relu6" ? null
            : n.Inputs[0] == from ? n.Inputs[1]
            : n.Inputs[0];

        (double, double) Clip(GraphNode n, string? constant, double lo, double hi)
        {
            double c = constant is null ? 0 : graph.Constants[constant].Floats![0];
            return n.Op switch
            {
                "Relu" => (Math.Max(lo, 0), Math.Max(hi, 0)),
                "Relu6" => (Math.Min(Math.Max(lo, 0), 6), Math.Min(Math.Max(hi, 0), 6)),
                "Minimum" => (Math.Min(lo, c), Math.Min(hi, c)),
                _ => (Math.Max(lo, c), Math.Max(hi, c)),
            };
        }
    }
}
