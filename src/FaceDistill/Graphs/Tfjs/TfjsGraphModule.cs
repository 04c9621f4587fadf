using FaceDistill.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FaceDistill.Graphs.Tfjs;

/// <summary>
/// A <see cref="TfjsGraph"/> as a TorchSharp module: each node mapped to a TorchSharp operation and executed in
/// topological order; every float weight is a <see cref="Parameter"/> (in torch layout for convolution kernels), so an
/// imported net can be frozen as a teacher or fine-tuned. Activations run NCHW: the graph's NHWC semantics are mapped
/// once, at each op (channel axes of reductions, softmax and constants broadcast over channels), and the module takes
/// <c>[N, C, H, W]</c> input with the graph's own value range. Ops: Conv2D, DepthwiseConv2dNative, _FusedConv2D,
/// FusedDepthwiseConv2dNative (BiasAdd, Relu, Relu6, Prelu, LeakyRelu, Sigmoid), BiasAdd, Add/AddV2, Sub, Mul, RealDiv,
/// Minimum, Maximum, Relu, Relu6, Prelu, LeakyRelu, Sigmoid, Tanh, Softmax, Abs, Square, Sqrt, Rsqrt, Neg, Pad,
/// Mean, Sum, Max, MatMul, _FusedMatMul, Reshape, Squeeze, ExpandDims, ConcatV2, AvgPool, MaxPool, Identity,
/// Const, Placeholder. An op outside this set is a one-line error naming the file and the node, at load time.
/// </summary>
public sealed class TfjsGraphModule : nn.Module
{
    public static readonly HashSet<string> SupportedOps =
    [
        "Const",
        "Placeholder",
        "Identity",
        "Conv2D",
        "DepthwiseConv2dNative",
        "_FusedConv2D",
        "FusedDepthwiseConv2dNative",
        "BiasAdd",
        "Add",
        "AddV2",
        "Sub",
        "Mul",
        "RealDiv",
        "Minimum",
        "Maximum",
        "Relu",
        "Relu6",
        "Prelu",
        "LeakyRelu",
        "Sigmoid",
        "Tanh",
        "Softmax",
        "Abs",
        "Square",
        "Sqrt",
        "Rsqrt",
        "Neg",
        "Pad",
        "Mean",
        "Sum",
        "Max",
        "MatMul",
        "_FusedMatMul",
        "Reshape",
        "Squeeze",
        "ExpandDims",
        "ConcatV2",
        "AvgPool",
        "MaxPool",
    ];

    private readonly TfjsGraph _graph;
    private readonly List<GraphNode> _order;
    private readonly Dictionary<string, Parameter> _floats = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long[]> _ints = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TfjsConvChain> _chains;
    private readonly HashSet<string> _absorbed;
    private readonly HashSet<string> _chainNodes;

    public TfjsGraph Graph => _graph;

    /// <summary>Run each convolution with the per-channel affine map and clipping after it as one convolution with a
    /// bias and one clamp (<see cref="TfjsConvChain"/>): the same function, several times fewer passes over memory.
    /// On by default; off runs every node on its own (the reference for tests and benchmarks).</summary>
    public bool FuseConvChains { get; set; } = true;

    /// <summary>When set, every convolution and matrix product reports its multiply-accumulates (output elements ×
    /// reduction length), as <c>Models.ModelStats</c> counts them for built-in backbones.</summary>
    public Action<long>? MacCounter { get; set; }

    /// <summary>The nodes in the order <see cref="Run"/> executes them (for exporters).</summary>
    public IReadOnlyList<GraphNode> Order => _order;

    /// <summary>The fused convolution chains, keyed by their convolution node (for exporters).</summary>
    public IReadOnlyDictionary<string, TfjsConvChain> Chains => _chains;

    /// <summary>A float constant as the module holds it (convolution kernels in torch layout, everything else in TF
    /// layout), or null.</summary>
    public Tensor? FloatConstant(string name) => _floats.TryGetValue(name, out var p) ? p : null;

    /// <summary>An int constant (shapes, axes, paddings), or null.</summary>
    public long[]? IntConstant(string name) => _ints.TryGetValue(name, out var v) ? v : null;

    /// <summary>How many convolutions run fused with what follows them (<see cref="FuseConvChains"/>).</summary>
    public int FusedChains => _chains.Count;

    public TfjsGraphModule(TfjsGraph graph, string name = "TfjsGraph")
        : base(name)
    {
        _graph = graph;
        foreach (var n in graph.Nodes)
            if (!SupportedOps.Contains(n.Op))
                throw FaceDistillException.ForFile(
                    graph.Path,
                    $"node '{n.Name}': op '{n.Op}' is not supported by the importer"
                );
        _order = TopologicalOrder(graph);
        _chains = TfjsConvChain.Find(graph, graph.Outputs);
        _absorbed = _chains.Values.SelectMany(c => c.Absorbed).ToHashSet(StringComparer.Ordinal);
        _chainNodes = _chains.Keys.Concat(_absorbed).ToHashSet(StringComparer.Ordinal);
        var kernels = KernelKinds(graph);
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (cname, c) in graph.Constants)
        {
            if (c.Ints is not null)
            {
                _ints[cname] = c.Ints;
                continue;
            }
            var t = tensor(c.Floats!, c.Shape.Length == 0 ? [] : c.Shape);
            if (kernels.TryGetValue(cname, out var kind))
                t = ToTorchKernel(t, kind);
            var p = new Parameter(t, requires_grad: true);
            _floats[cname] = p;
            var safe = new string(cname.Select(ch => char.IsLetterOrDigit(ch) ? ch : '_').ToArray());
            while (!used.Add(safe))
                safe += "_";
            register_parameter(safe, p);
        }
    }

    /// <summary>Runs the graph on an NCHW batch and returns the named outputs (default: the signature's).</summary>
    public Dictionary<string, Tensor> Run(Tensor input, IReadOnlyList<string>? outputs = null)
    {
        outputs ??= _graph.Outputs;
        var keep = outputs.ToHashSet(StringComparer.Ordinal);
        var values = new Dictionary<string, Value>(StringComparer.Ordinal);
        // memory is the live set, not the whole graph: a node's value is freed once its last consumer has run
        var remaining = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var n in _order)
        foreach (var i in n.Inputs)
            remaining[i] = remaining.GetValueOrDefault(i) + 1;
        using var scope = NewDisposeScope();
        // a call that asks for a value inside a chain runs node by node
        bool fuse = FuseConvChains && !keep.Any(_chainNodes.Contains);
        foreach (var n in _order)
        {
            if (n.Op == "Const" || (fuse && _absorbed.Contains(n.Name)))
                continue;
            Value v;
            string name = n.Name;
            using (NewDisposeScope())
            {
                if (n.Op == "Placeholder")
                    v = new Value(input, input.dim() == 4);
                else if (fuse && _chains.TryGetValue(n.Name, out var chain))
                {
                    v = Chain(chain, n.Inputs.Select(i => Get(i, values)).ToArray());
                    name = chain.End;
                }
                else
                    v = Apply(n, n.Inputs.Select(i => Get(i, values)).ToArray());
                if (n.Op != "Placeholder")
                    v.T.MoveToOuterDisposeScope();
            }
            values[name] = v;
            foreach (var i in n.Inputs)
                if (
                    --remaining[i] == 0
                    && !keep.Contains(i)
                    && values.TryGetValue(i, out var done)
                    && !ReferenceEquals(done.T, input)
                )
                {
                    done.T.Dispose();
                    values.Remove(i);
                }
        }
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var o in outputs)
        {
            var v = Get(o, values);
            result[o] = (v.Nchw ? v.T : v.T.alias()).MoveToOuterDisposeScope();
        }
        return result;
    }

    private readonly record struct Value(Tensor T, bool Nchw);

    private Value Get(string name, Dictionary<string, Value> values)
    {
        if (values.TryGetValue(name, out var v))
            return v;
        if (_floats.TryGetValue(name, out var p))
            return new Value(p, false);
        if (_ints.TryGetValue(name, out var ints))
            return new Value(tensor(ints), false);
        throw FaceDistillException.ForFile(_graph.Path, $"node '{name}' has no value (is it an output of the graph?)");
    }

    private long[] IntsOf(GraphNode n, int input)
    {
        var name = n.Inputs[input];
        return _ints.TryGetValue(name, out var v)
            ? v
            : throw FaceDistillException.ForFile(
                _graph.Path,
                $"node '{n.Name}': input '{name}' must be an int32 constant"
            );
    }

    private Value Apply(GraphNode n, Value[] x)
    {
        try
        {
            return n.Op switch
            {
                "Identity" => x[0] with { T = x[0].T.alias() },
                "Conv2D" or "DepthwiseConv2dNative" => Conv(n, x, fused: false),
                "_FusedConv2D" or "FusedDepthwiseConv2dNative" => Conv(n, x, fused: true),
                "BiasAdd" or "Add" or "AddV2" => Binary(x[0], x[1], (a, b) => a + b),
                "Sub" => Binary(x[0], x[1], (a, b) => a - b),
                "Mul" => Binary(x[0], x[1], (a, b) => a * b),
                "RealDiv" => Binary(x[0], x[1], (a, b) => a / b),
                "Minimum" => Binary(x[0], x[1], minimum),
                "Maximum" => Binary(x[0], x[1], maximum),
                "Prelu" => Binary(x[0], x[1], (a, alpha) => where(a.gt(0), a, a * alpha)),
                "Relu" or "Relu6" or "LeakyRelu" or "Sigmoid" or "Tanh" => x[0] with
                {
                    T = Activation(n.Op, x[0].T, n),
                },
                "Abs" => x[0] with { T = x[0].T.abs() },
                "Square" => x[0] with { T = x[0].T.square() },
                "Sqrt" => x[0] with { T = x[0].T.sqrt() },
                "Rsqrt" => x[0] with { T = x[0].T.rsqrt() },
                "Neg" => x[0] with { T = -x[0].T },
                "Softmax" => x[0] with { T = F.softmax(x[0].T, x[0].Nchw ? 1 : -1) },
                "Mean" or "Sum" or "Max" => Reduce(n, x[0]),
                "MatMul" or "_FusedMatMul" => MatMul(n, x),
                "Pad" => Pad(n, x[0]),
                "Reshape" => Reshape(x[0], IntsOf(n, 1)),
                "Squeeze" => Squeeze(n, x[0]),
                "ExpandDims" => Reshape(x[0], ExpandedShape(x[0], IntsOf(n, 1)[0])),
                "ConcatV2" => Concat(n, x),
                "AvgPool" or "MaxPool" => Pool(n, x[0]),
                _ => throw new FaceDistillException($"op '{n.Op}' is not supported"),
            };
        }
        catch (Exception e) when (e is not FaceDistillException && !NativeRetry.IsTransient(e))
        {
            throw FaceDistillException.ForFile(_graph.Path, $"node '{n.Name}' ({n.Op}): {e.Message.Split('\n')[0]}");
        }
    }

    /// <summary>A tensor in TF layout brought to an NCHW activation's layout: rank 4 NHWC permuted, a per-channel
    /// vector (rank 1, or [1, 1, C] / [1, 1, 1, C]) viewed as [1, C, 1, 1].</summary>
    private static Tensor ToNchw(Tensor t)
    {
        if (t.dim() == 4)
            return t.permute(0, 3, 1, 2);
        if (t.dim() is 1 or 2 or 3)
            return t.reshape(1, -1, 1, 1);
        return t;
    }

    private static Value Binary(Value a, Value b, Func<Tensor, Tensor, Tensor> op)
    {
        if (a.Nchw == b.Nchw)
            return new Value(op(a.T, b.T), a.Nchw);
        return a.Nchw ? new Value(op(a.T, ToNchw(b.T)), true) : new Value(op(ToNchw(a.T), b.T), true);
    }

    private static Tensor Activation(string op, Tensor t, GraphNode n) =>
        op switch
        {
            "Relu" => F.relu(t),
            "Relu6" => t.clamp(0, 6),
            "LeakyRelu" => F.leaky_relu(t, n.Float("alpha", n.Float("leakyrelu_alpha", 0.2))),
            "Sigmoid" => t.sigmoid(),
            "Tanh" => t.tanh(),
            _ => throw new FaceDistillException($"fused activation '{op}' is not supported"),
        };

    private Value Conv(GraphNode n, Value[] x, bool fused)
    {
        var y = ConvCore(n, x[0], x[1].T, null);
        if (!fused)
            return new Value(y, true);
        int arg = 2;
        foreach (var op in n.Strs("fused_ops"))
        {
            if (op == "BiasAdd")
                y = y + ToNchw(x[arg++].T);
            else if (op == "Prelu")
            {
                var alpha = ToNchw(x[arg++].T);
                y = where(y.gt(0), y, y * alpha);
            }
            else
                y = Activation(op, y, n);
        }
        return new Value(y, true);
    }

    /// <summary>A <see cref="TfjsConvChain"/>: <c>clamp(conv(x, W·s) + b, lo, hi)</c>.</summary>
    private Value Chain(TfjsConvChain chain, Value[] x)
    {
        var n = chain.Conv;
        try
        {
            var w = x[1].T;
            if (chain.Scale is { } s)
                w = w * _floats[s].reshape(-1, 1, 1, 1);
            Tensor? bias = chain.Bias is { } b ? _floats[b].flatten().expand(w.shape[0]).contiguous() : null;
            var y = ConvCore(n, x[0], w, bias);
            Scalar? lo = double.IsNegativeInfinity(chain.Lo) ? null : chain.Lo,
                hi = double.IsPositiveInfinity(chain.Hi) ? null : chain.Hi;
            if (lo is not null || hi is not null)
                y = is_grad_enabled() ? y.clamp(lo, hi) : y.clamp_(lo, hi);
            return new Value(y, true);
        }
        catch (Exception e) when (e is not FaceDistillException && !NativeRetry.IsTransient(e))
        {
            throw FaceDistillException.ForFile(_graph.Path, $"node '{n.Name}' ({n.Op}): {e.Message.Split('\n')[0]}");
        }
    }

    /// <summary>TF's convolution (NHWC semantics, "SAME" or "VALID" padding) on an NCHW activation with a torch-layout
    /// kernel; symmetric SAME padding is left to the convolution itself, asymmetric (stride 2: (0, 1)) is explicit.
    /// </summary>
    private Tensor ConvCore(GraphNode n, Value x, Tensor w, Tensor? bias)
    {
        if (n.Str("data_format") is { Length: > 0 } fmt && fmt != "NHWC")
            throw new FaceDistillException($"data_format {fmt} is not supported");
        var input = x.Nchw ? x.T : ToNchw(x.T);
        long[] strides = n.Ints("strides") is { Length: 4 } s ? s : [1, 1, 1, 1];
        long[] dil = n.Ints("dilations") is { Length: 4 } d ? d : [1, 1, 1, 1];
        long groups = n.Op.Contains("Depthwise") ? input.shape[1] : 1;
        string padding = n.Str("padding");
        long[] pad = [0, 0];
        if (padding == "SAME")
        {
            var (t, b) = TfOps.SamePad(input.shape[2], (w.shape[2] - 1) * dil[1] + 1, strides[1]);
            var (l, r) = TfOps.SamePad(input.shape[3], (w.shape[3] - 1) * dil[2] + 1, strides[2]);
            if (t == b && l == r)
                pad = [t, l];
            else
                input = F.pad(input, [l, r, t, b]);
        }
        else if (padding != "VALID")
            throw new FaceDistillException($"padding '{padding}' is not supported");
        var y = F.conv2d(
            input,
            w,
            bias,
            strides: [strides[1], strides[2]],
            padding: pad,
            dilation: [dil[1], dil[2]],
            groups: groups
        );
        MacCounter?.Invoke(y.numel() * w.shape[1] * w.shape[2] * w.shape[3]);
        return y;
    }

    private static int NchwAxis(long axis, long rank) =>
        (int)(axis < 0 ? axis + rank : axis) switch
        {
            0 => 0,
            1 => 2,
            2 => 3,
            3 => 1,
            var a => a,
        };

    private Value Reduce(GraphNode n, Value x)
    {
        long rank = x.T.dim();
        var axes = IntsOf(n, 1)
            .Select(a => x.Nchw ? NchwAxis(a, rank) : (int)(a < 0 ? a + rank : a))
            .Distinct()
            .OrderDescending()
            .ToArray();
        bool keep = n.Bool("keep_dims");
        var t = x.T;
        foreach (var a in axes)
            t = n.Op switch
            {
                "Mean" => t.mean([a], keep),
                "Sum" => t.sum([a], keep),
                _ => t.amax([a], keep),
            };
        return new Value(t, x.Nchw && t.dim() == 4);
    }

    private Value MatMul(GraphNode n, Value[] x)
    {
        var a = n.Bool("transpose_a") ? x[0].T.t() : x[0].T;
        var b = n.Bool("transpose_b") ? x[1].T.t() : x[1].T;
        var y = a.matmul(b);
        MacCounter?.Invoke(y.numel() * a.shape[^1]);
        int arg = 2;
        foreach (var op in n.Strs("fused_ops"))
        {
            if (op == "BiasAdd")
                y = y + x[arg++].T;
            else if (op == "Prelu")
            {
                var alpha = x[arg++].T;
                y = where(y.gt(0), y, y * alpha);
            }
            else
                y = Activation(op, y, n);
        }
        return new Value(y, false);
    }

    private Value Pad(GraphNode n, Value x)
    {
        var p = IntsOf(n, 1); // [[n0, n1], [h0, h1], [w0, w1], [c0, c1]] in TF order
        if (!x.Nchw)
            return new Value(
                F.pad(
                    x.T,
                    Enumerable
                        .Range(0, p.Length / 2)
                        .Reverse()
                        .SelectMany(d => new[] { p[2 * d], p[2 * d + 1] })
                        .ToArray()
                ),
                false
            );
        if (p[0] != 0 || p[1] != 0)
            throw new FaceDistillException("padding the batch axis is not supported");
        return new Value(F.pad(x.T, [p[4], p[5], p[2], p[3], p[6], p[7]]), true);
    }

    /// <summary>TF reshapes in NHWC order: an NCHW activation goes back to NHWC first; a rank-4 result comes to
    /// NCHW.</summary>
    private static Value Reshape(Value x, long[] shape)
    {
        var t = x.Nchw ? x.T.permute(0, 2, 3, 1) : x.T;
        var y = t.reshape(shape);
        return y.dim() == 4 ? new Value(y.permute(0, 3, 1, 2), true) : new Value(y, false);
    }

    private static long[] ExpandedShape(Value x, long axis)
    {
        var shape = (x.Nchw ? new[] { x.T.shape[0], x.T.shape[2], x.T.shape[3], x.T.shape[1] } : x.T.shape).ToList();
        shape.Insert((int)(axis < 0 ? axis + shape.Count + 1 : axis), 1);
        return shape.ToArray();
    }

    private static Value Squeeze(GraphNode n, Value x)
    {
        var nhwc = x.Nchw ? x.T.permute(0, 2, 3, 1) : x.T;
        var dims = n.Ints("squeeze_dims");
        var shape = nhwc
            .shape.Where(
                (s, i) => dims.Length == 0 ? s != 1 : !dims.Select(d => d < 0 ? d + nhwc.dim() : d).Contains(i)
            )
            .ToArray();
        var y = nhwc.reshape(shape);
        return y.dim() == 4 ? new Value(y.permute(0, 3, 1, 2), true) : new Value(y, false);
    }

    private Value Concat(GraphNode n, Value[] x)
    {
        long axis = IntsOf(n, n.Inputs.Count - 1)[0];
        var parts = x.Take(x.Length - 1).ToArray();
        bool nchw = parts.Any(p => p.Nchw);
        long rank = parts[0].T.dim();
        var ts = parts.Select(p => nchw && !p.Nchw ? ToNchw(p.T) : p.T).ToArray();
        return new Value(cat(ts, nchw ? NchwAxis(axis, rank) : axis), nchw);
    }

    private static Value Pool(GraphNode n, Value x)
    {
        var k = n.Ints("ksize");
        var s = n.Ints("strides");
        var t = x.T;
        if (n.Str("padding") == "SAME")
        {
            var (pt, pb) = TfOps.SamePad(t.shape[2], k[1], s[1]);
            var (pl, pr) = TfOps.SamePad(t.shape[3], k[2], s[2]);
            if (n.Op == "MaxPool")
                t = F.pad(t, [pl, pr, pt, pb], value: double.NegativeInfinity);
            else if (pt + pb + pl + pr > 0)
                throw new FaceDistillException("AvgPool with SAME padding is not supported");
        }
        var y =
            n.Op == "MaxPool"
                ? F.max_pool2d(t, [k[1], k[2]], [s[1], s[2]])
                : F.avg_pool2d(t, [k[1], k[2]], [s[1], s[2]]);
        return new Value(y, true);
    }

    private enum KernelKind
    {
        Dense,
        Depthwise,
    }

    /// <summary>Which constants are convolution kernels (input 1 of a convolution), to be stored in torch
    /// layout.</summary>
    private static Dictionary<string, KernelKind> KernelKinds(TfjsGraph g)
    {
        var kinds = new Dictionary<string, KernelKind>(StringComparer.Ordinal);
        foreach (var n in g.Nodes)
        {
            if (n.Op is "Conv2D" or "_FusedConv2D")
                kinds[n.Inputs[1]] = KernelKind.Dense;
            if (n.Op is "DepthwiseConv2dNative" or "FusedDepthwiseConv2dNative")
                kinds[n.Inputs[1]] = KernelKind.Depthwise;
        }
        return kinds;
    }

    /// <summary>TF kernels to torch: dense [kh, kw, in, out] → [out, in, kh, kw]; depthwise [kh, kw, in, mult] →
    /// [in·mult, 1, kh, kw] (TF's output channel c·mult + m is torch's group c, member m).</summary>
    private static Tensor ToTorchKernel(Tensor t, KernelKind kind)
    {
        if (kind == KernelKind.Dense)
            return t.permute(3, 2, 0, 1).contiguous();
        var p = t.permute(2, 3, 0, 1);
        return p.reshape(p.shape[0] * p.shape[1], 1, p.shape[2], p.shape[3]).contiguous();
    }

    private static List<GraphNode> TopologicalOrder(TfjsGraph g)
    {
        var byName = g.Nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var order = new List<GraphNode>();
        var state = new Dictionary<string, int>(StringComparer.Ordinal);
        void Visit(GraphNode n)
        {
            if (state.GetValueOrDefault(n.Name) == 2)
                return;
            if (state.GetValueOrDefault(n.Name) == 1)
                throw FaceDistillException.ForFile(g.Path, $"node '{n.Name}': the graph has a cycle");
            state[n.Name] = 1;
            foreach (var i in n.Inputs)
                Visit(byName[i]);
            state[n.Name] = 2;
            order.Add(n);
        }
        foreach (var n in g.Nodes)
            Visit(n);
        return order;
    }
}
