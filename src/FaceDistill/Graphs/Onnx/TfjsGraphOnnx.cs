using FaceDistill.Graphs.Tfjs;
using static TorchSharp.torch;

namespace FaceDistill.Graphs.Onnx;

/// <summary>
/// An imported tfjs graph (<see cref="TfjsGraphModule"/>) written as ONNX operators, node for node in its execution
/// order and with its current weights (a fine-tuned student exports what it learned). The graph's NHWC semantics are
/// mapped to ONNX's NCHW as the module maps them: activations are NCHW, constants that broadcast over channels are
/// reshaped to <c>[1, C, 1, 1]</c> at export time, reductions and squeezes get their NCHW axes, reshapes go through
/// NHWC.
/// TF's "SAME" padding is ONNX's <c>SAME_UPPER</c>. Fused convolution chains (<see cref="TfjsConvChain"/>) are folded
/// into one Conv (kernel × scale, bias) and one Clip. An op without a mapping is a one-line error naming the node.
/// </summary>
public static class TfjsGraphOnnx
{
    private readonly record struct Value(string Name, bool Nchw);

    /// <summary>Writes the graph on the NCHW value <paramref name="input"/> (the graph's placeholder, already
    /// preprocessed); returns the name of <paramref name="output"/>'s value.</summary>
    public static string Export(OnnxGraph g, TfjsGraphModule m, string input, string output)
    {
        var values = new Dictionary<string, Value>(StringComparer.Ordinal);
        var absorbed = m.Chains.Values.SelectMany(c => c.Absorbed).ToHashSet(StringComparer.Ordinal);
        bool fuse = m.FuseConvChains && !absorbed.Contains(output) && !m.Chains.ContainsKey(output);
        foreach (var n in m.Order)
        {
            if (n.Op == "Const" || (fuse && absorbed.Contains(n.Name)))
                continue;
            if (n.Op == "Placeholder")
            {
                values[n.Name] = new Value(input, true);
                continue;
            }
            try
            {
                if (fuse && m.Chains.TryGetValue(n.Name, out var chain))
                    values[chain.End] = Chain(g, m, chain, Get(g, m, values, n.Inputs[0]));
                else
                    values[n.Name] = Node(g, m, n, values);
            }
            catch (Exception e) when (e is not Core.FaceDistillException)
            {
                throw Core.FaceDistillException.ForFile(
                    m.Graph.Path,
                    $"ONNX export: node '{n.Name}' ({n.Op}): {e.Message.Split('\n')[0]}"
                );
            }
        }
        return Get(g, m, values, output).Name;
    }

    private static Value Get(OnnxGraph g, TfjsGraphModule m, Dictionary<string, Value> values, string name)
    {
        if (values.TryGetValue(name, out var v))
            return v;
        if (m.FloatConstant(name) is { } f)
            return values[name] = new Value(g.Constant("tf_const", f), false);
        if (m.IntConstant(name) is { } ints)
            return values[name] = new Value(g.ConstantInt64("tf_int", ints), false);
        throw new NotSupportedException($"value '{name}' has no producer");
    }

    /// <summary>A TF-layout constant brought to an NCHW activation's layout (as <c>TfjsGraphModule</c> does
    /// it).</summary>
    private static string ToNchw(OnnxGraph g, TfjsGraphModule m, string tfName, Value v)
    {
        if (m.FloatConstant(tfName) is { } f)
        {
            using var t =
                f.dim() == 4 ? f.permute(0, 3, 1, 2)
                : f.dim() is 1 or 2 or 3 ? f.reshape(1, -1, 1, 1)
                : f;
            return g.Constant("tf_nchw", t);
        }
        return g.Node("Reshape", [v.Name, g.ConstantInt64("shape", [1, -1, 1, 1])]);
    }

    private static Value Binary(
        OnnxGraph g,
        TfjsGraphModule m,
        GraphNode n,
        Dictionary<string, Value> values,
        string op
    )
    {
        bool Constant(int i) => !values.ContainsKey(n.Inputs[i]) && m.FloatConstant(n.Inputs[i]) is not null;
        // a constant beside an image value is written once, already in NCHW layout
        if (Constant(0) != Constant(1))
        {
            int c = Constant(0) ? 0 : 1;
            var other = Get(g, m, values, n.Inputs[1 - c]);
            var constant = other.Nchw ? ToNchw(g, m, n.Inputs[c], default) : Get(g, m, values, n.Inputs[c]).Name;
            string[] operands = c == 0 ? [constant, other.Name] : [other.Name, constant];
            return new Value(g.Node(op, operands), other.Nchw);
        }
        var a = Get(g, m, values, n.Inputs[0]);
        var b = Get(g, m, values, n.Inputs[1]);
        if (a.Nchw != b.Nchw)
        {
            if (a.Nchw)
                b = new Value(ToNchw(g, m, n.Inputs[1], b), true);
            else
                a = new Value(ToNchw(g, m, n.Inputs[0], a), true);
        }
        return new Value(g.Node(op, [a.Name, b.Name]), a.Nchw);
    }

    private static string Activation(OnnxGraph g, string op, string x, GraphNode n) =>
        op switch
        {
            "Relu" => g.Node("Relu", [x]),
            "Relu6" => g.Node("Clip", [x, g.Constant("lo", [0f], []), g.Constant("hi", [6f], [])]),
            "LeakyRelu" => g.Node(
                "LeakyRelu",
                [x],
                ("alpha", (float)n.Float("alpha", n.Float("leakyrelu_alpha", 0.2)))
            ),
            "Sigmoid" => g.Node("Sigmoid", [x]),
            "Tanh" => g.Node("Tanh", [x]),
            _ => throw new NotSupportedException($"activation '{op}' has no ONNX mapping"),
        };

    private static string Conv(
        OnnxGraph g,
        GraphNode n,
        string x,
        string w,
        string? bias,
        long[] kernelShape,
        long group
    )
    {
        long[] strides = n.Ints("strides") is { Length: 4 } s ? s : [1, 1, 1, 1];
        long[] dil = n.Ints("dilations") is { Length: 4 } d ? d : [1, 1, 1, 1];
        var pad = n.Str("padding");
        var attrs = new List<(string, object)>
        {
            ("kernel_shape", kernelShape),
            ("strides", new[] { strides[1], strides[2] }),
            ("dilations", new[] { dil[1], dil[2] }),
            ("group", group),
        };
        attrs.Add(
            pad switch
            {
                "SAME" => ("auto_pad", "SAME_UPPER"),
                "VALID" => ("pads", new long[] { 0, 0, 0, 0 }),
                _ => throw new NotSupportedException($"padding '{pad}' has no ONNX mapping"),
            }
        );
        return g.Node("Conv", bias is null ? [x, w] : [x, w, bias], [.. attrs]);
    }

    private static (Tensor Kernel, long Group) KernelOf(TfjsGraphModule m, GraphNode n)
    {
        var w = m.FloatConstant(n.Inputs[1]) ?? throw new NotSupportedException("the kernel is not a constant");
        // depthwise: TF's kernel is [kh, kw, in, multiplier], one group per input channel
        return (w, n.Op.Contains("Depthwise") ? m.Graph.Constants[n.Inputs[1]].Shape[2] : 1);
    }

    private static Value Chain(OnnxGraph g, TfjsGraphModule m, TfjsConvChain c, Value x)
    {
        var (w, group) = KernelOf(m, c.Conv);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var kernel = c.Scale is { } s ? w * m.FloatConstant(s)!.reshape(-1, 1, 1, 1) : w;
        string? bias = c.Bias is { } b
            ? g.Constant("conv_b", m.FloatConstant(b)!.flatten().expand(kernel.shape[0]).contiguous())
            : null;
        var y = Conv(g, c.Conv, x.Name, g.Constant("conv_w", kernel), bias, [w.shape[2], w.shape[3]], group);
        if (c.Lo == 0 && double.IsPositiveInfinity(c.Hi))
            return new Value(g.Node("Relu", [y]), true);
        if (!double.IsNegativeInfinity(c.Lo) || !double.IsPositiveInfinity(c.Hi))
            y = g.Node(
                "Clip",
                [
                    y,
                    double.IsNegativeInfinity(c.Lo) ? "" : g.Constant("lo", [(float)c.Lo], []),
                    double.IsPositiveInfinity(c.Hi) ? "" : g.Constant("hi", [(float)c.Hi], []),
                ]
            );
        return new Value(y, true);
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

    private static Value Node(OnnxGraph g, TfjsGraphModule m, GraphNode n, Dictionary<string, Value> values)
    {
        Value In(int i) => Get(g, m, values, n.Inputs[i]);
        long[] Ints(int i) =>
            m.IntConstant(n.Inputs[i]) ?? throw new NotSupportedException($"input {i} must be an int constant");
        Value Same(string op) => new(g.Node(op, [In(0).Name]), In(0).Nchw);
        switch (n.Op)
        {
            case "Identity":
                return In(0);
            case "Conv2D" or "DepthwiseConv2dNative" or "_FusedConv2D" or "FusedDepthwiseConv2dNative":
            {
                var (w, group) = KernelOf(m, n);
                var x = In(0);
                if (!x.Nchw)
                    throw new NotSupportedException("a convolution on a non-image value");
                var fused = n.Strs("fused_ops");
                int arg = 2;
                string? bias = null;
                if (fused.FirstOrDefault() == "BiasAdd")
                {
                    bias = g.Constant("conv_b", m.FloatConstant(n.Inputs[arg++])!.flatten());
                    fused = fused[1..];
                }
                var y = Conv(g, n, x.Name, g.Constant("conv_w", w), bias, [w.shape[2], w.shape[3]], group);
                foreach (var op in fused)
                    y =
                        op == "Prelu"
                            ? g.Node("PRelu", [y, ToNchw(g, m, n.Inputs[arg], In(arg++))])
                            : Activation(g, op, y, n);
                return new Value(y, true);
            }
            case "BiasAdd" or "Add" or "AddV2":
                return Binary(g, m, n, values, "Add");
            case "Sub":
                return Binary(g, m, n, values, "Sub");
            case "Mul":
                return Binary(g, m, n, values, "Mul");
            case "RealDiv":
                return Binary(g, m, n, values, "Div");
            case "Minimum":
                return Binary(g, m, n, values, "Min");
            case "Maximum":
                return Binary(g, m, n, values, "Max");
            case "Relu" or "Relu6" or "LeakyRelu" or "Sigmoid" or "Tanh":
                return new Value(Activation(g, n.Op, In(0).Name, n), In(0).Nchw);
            case "Abs":
                return Same("Abs");
            case "Sqrt":
                return Same("Sqrt");
            case "Neg":
                return Same("Neg");
            case "Rsqrt":
                return new Value(g.Node("Reciprocal", [g.Node("Sqrt", [In(0).Name])]), In(0).Nchw);
            case "Square":
                return new Value(g.Node("Mul", [In(0).Name, In(0).Name]), In(0).Nchw);
            case "Softmax":
                return new Value(g.Node("Softmax", [In(0).Name], ("axis", In(0).Nchw ? 1L : -1L)), In(0).Nchw);
            case "Mean" or "Sum" or "Max":
            {
                var x = In(0);
                // the rank of an NCHW value is 4; others keep TF's axes (ONNX accepts negative ones)
                var axes = Ints(1).Select(a => x.Nchw ? NchwAxis(a, 4) : a).Distinct().Order().ToArray();
                long keep = n.Bool("keep_dims") ? 1 : 0;
                var y = n.Op switch
                {
                    "Mean" => g.Node("ReduceMean", [x.Name], ("axes", axes), ("keepdims", keep)),
                    "Max" => g.Node("ReduceMax", [x.Name], ("axes", axes), ("keepdims", keep)),
                    _ => g.Node("ReduceSum", [x.Name, g.ConstantInt64("axes", axes)], ("keepdims", keep)),
                };
                return new Value(y, x.Nchw && keep == 1);
            }
            case "MatMul" or "_FusedMatMul":
            {
                var a = In(0).Name;
                var b = In(1).Name;
                if (n.Bool("transpose_a"))
                    a = g.Node("Transpose", [a], ("perm", new long[] { 1, 0 }));
                if (n.Bool("transpose_b"))
                    b = g.Node("Transpose", [b], ("perm", new long[] { 1, 0 }));
                var y = g.Node("MatMul", [a, b]);
                int arg = 2;
                foreach (var op in n.Strs("fused_ops"))
                    y = op switch
                    {
                        "BiasAdd" => g.Node("Add", [y, In(arg++).Name]),
                        "Prelu" => g.Node("PRelu", [y, In(arg++).Name]),
                        _ => Activation(g, op, y, n),
                    };
                return new Value(y, false);
            }
            case "Pad":
            {
                var x = In(0);
                var p = Ints(1); // TF: [[b0, e0], [b1, e1], …] per axis, NHWC
                long rank = p.Length / 2;
                var axes = Enumerable.Range(0, (int)rank).ToArray();
                var order = x.Nchw ? new[] { 0, 3, 1, 2 } : axes; // ONNX axis k ← TF axis order[k]
                var pads = order.Select(a => p[2 * a]).Concat(order.Select(a => p[2 * a + 1])).ToArray();
                return new Value(g.Node("Pad", [x.Name, g.ConstantInt64("pads", pads)]), x.Nchw);
            }
            case "Reshape" or "Squeeze":
            {
                var x = In(0);
                var t = x.Nchw ? g.Node("Transpose", [x.Name], ("perm", new long[] { 0, 2, 3, 1 })) : x.Name;
                if (n.Op == "Reshape")
                {
                    var shape = Ints(1);
                    var y = g.Node("Reshape", [t, g.ConstantInt64("shape", shape)]);
                    // a rank-4 result is an image again (NHWC → NCHW), as in the module
                    return shape.Length == 4
                        ? new Value(g.Node("Transpose", [y], ("perm", new long[] { 0, 3, 1, 2 })), true)
                        : new Value(y, false);
                }
                var dims = n.Ints("squeeze_dims");
                if (dims.Length == 0)
                    throw new NotSupportedException("Squeeze without squeeze_dims");
                return new Value(g.Node("Squeeze", [t, g.ConstantInt64("axes", dims)]), false);
            }
            default:
                throw new NotSupportedException($"op '{n.Op}' has no ONNX mapping");
        }
    }
}
