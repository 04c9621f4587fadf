using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FaceDistill.Graphs.Onnx;

/// <summary>A module whose forward is more than a chain of its children (residual blocks, backbones, heads): it writes
/// its own inference graph, calling <see cref="OnnxGraph.Module"/> on its children.</summary>
public interface IOnnxExportable
{
    /// <summary>Adds this module's inference-mode computation on <paramref name="input"/> (a value name) to the graph;
    /// returns the name of its output.</summary>
    string ExportOnnx(OnnxGraph graph, string input);
}

/// <summary>An ONNX graph (opset 13, IR version 7) built from TorchSharp modules in inference mode: the leaf layers
/// FaceDistill's backbones use map to single operators (Conv, BatchNormalization, PRelu, Relu, Gemm, MaxPool,
/// GlobalAveragePool, LRN, Flatten; dropout disappears), <c>Sequential</c> chains its children, and modules with their
/// own forward implement <see cref="IOnnxExportable"/>. Weights become initializers with the parameters' names.
/// Anything else is refused with the module's type, rather than exported wrongly.</summary>
public sealed class OnnxGraph
{
    public const int Opset = 13;
    public const int IrVersion = 7;

    private const int Float = 1,
        Int64 = 7; // TensorProto.DataType
    private readonly List<ProtoWriter> _nodes = [];
    private readonly List<ProtoWriter> _initializers = [];
    private readonly List<ProtoWriter> _inputs = [],
        _outputs = [];
    private readonly HashSet<string> _names = [];
    private int _counter;

    /// <summary>A fresh value name with this prefix.</summary>
    public string Name(string prefix)
    {
        string n;
        do n = $"{prefix}_{_counter++}";
        while (!_names.Add(n));
        return n;
    }

    /// <summary>Declares a float graph input or output; <c>-1</c> in a shape is the batch dimension "N".</summary>
    public void Input(string name, params long[] shape)
    {
        _names.Add(name);
        _inputs.Add(ValueInfo(name, shape));
    }

    public void Output(string name, params long[] shape) => _outputs.Add(ValueInfo(name, shape));

    private static ProtoWriter ValueInfo(string name, long[] shape)
    {
        var dims = new ProtoWriter();
        foreach (var d in shape)
            dims.Message(1, d < 0 ? new ProtoWriter().String(2, "N") : new ProtoWriter().Varint(1, d));
        var tensorType = new ProtoWriter().Varint(1, Float).Message(2, dims);
        return new ProtoWriter().String(1, name).Message(2, new ProtoWriter().Message(1, tensorType));
    }

    /// <summary>A float initializer from a tensor (copied), optionally reshaped.</summary>
    public string Constant(string prefix, Tensor value, long[]? shape = null)
    {
        using var t = value.detach().cpu().to_type(ScalarType.Float32).contiguous();
        var data = t.data<float>().ToArray();
        return Constant(prefix, data, shape ?? t.shape);
    }

    public string Constant(string prefix, float[] data, long[] shape)
    {
        if (shape.Aggregate(1L, (a, b) => a * b) != data.Length)
            throw new ArgumentException($"{prefix}: {data.Length} values for shape [{string.Join(", ", shape)}]");
        var name = Name(prefix);
        var t = new ProtoWriter();
        foreach (var d in shape)
            t.Varint(1, d);
        t.Varint(2, Float).String(8, name).Bytes(9, MemoryMarshal.AsBytes(data.AsSpan()));
        _initializers.Add(t);
        return name;
    }

    public string ConstantInt64(string prefix, long[] data)
    {
        var name = Name(prefix);
        var t = new ProtoWriter()
            .Varint(1, data.Length)
            .Varint(2, Int64)
            .String(8, name)
            .Bytes(9, MemoryMarshal.AsBytes(data.AsSpan()));
        _initializers.Add(t);
        return name;
    }

    /// <summary>One operator node; attributes are (name, value) with long, float, long[] or string values.</summary>
    public string Node(string op, string[] inputs, params (string Name, object Value)[] attributes)
    {
        var output = Name(op.ToLowerInvariant());
        NodeTo(op, inputs, output, attributes);
        return output;
    }

    /// <summary>As <see cref="Node"/>, writing into a given output name (a graph output).</summary>
    public void NodeTo(string op, string[] inputs, string output, params (string Name, object Value)[] attributes)
    {
        _names.Add(output);
        var n = new ProtoWriter();
        foreach (var i in inputs)
            n.String(1, i);
        n.String(2, output).String(3, output).String(4, op);
        foreach (var (name, value) in attributes)
        {
            var a = new ProtoWriter().String(1, name);
            switch (value)
            {
                case long l:
                    a.Varint(3, l).Varint(20, 2);
                    break;
                case int i:
                    a.Varint(3, i).Varint(20, 2);
                    break;
                case float f:
                    a.Float(2, f).Varint(20, 1);
                    break;
                case double d:
                    a.Float(2, (float)d).Varint(20, 1);
                    break;
                case long[] ls:
                    foreach (var l in ls)
                        a.Varint(8, l);
                    a.Varint(20, 7);
                    break;
                case string s:
                    a.String(4, s).Varint(20, 3);
                    break;
                default:
                    throw new ArgumentException($"attribute {name}: unsupported value type {value.GetType().Name}");
            }
            n.Message(5, a);
        }
        _nodes.Add(n);
    }

    /// <summary>Exports a module's inference computation on <paramref name="x"/>; returns the output's name.</summary>
    public string Module(nn.Module module, string x) =>
        module switch
        {
            IOnnxExportable e => e.ExportOnnx(this, x),
            Sequential s => s.children().Aggregate(x, (v, child) => Module(child, v)),
            Conv2d c => Conv(c, x),
            BatchNorm2d b => BatchNorm(b, x),
            BatchNorm1d b => BatchNorm(b, x),
            PReLU p => PRelu(p, x),
            ReLU => Node("Relu", [x]),
            Linear l => Gemm(l, x),
            Dropout => x,
            Flatten f when f.start_dim == 1 && f.end_dim == -1 => Node("Flatten", [x], ("axis", 1L)),
            MaxPool2d m => MaxPool(m, x),
            AdaptiveAvgPool2d a when a.output_size.All(s => s == 1) => Node("GlobalAveragePool", [x]),
            LocalResponseNorm r => Node(
                "LRN",
                [x],
                ("size", r.size),
                ("alpha", r.alpha),
                ("beta", r.beta),
                ("bias", r.k)
            ),
            _ => throw new NotSupportedException(
                $"ONNX export: no mapping for module {module.GetType().Name} ('{module.GetName()}')"
            ),
        };

    private string Conv(Conv2d c, string x)
    {
        if (c.padding_type is not null || c.padding_mode != PaddingModes.Zeros)
            throw new NotSupportedException(
                $"ONNX export: Conv2d '{c.GetName()}' uses padding "
                    + $"{c.padding_type?.ToString() ?? c.padding_mode.ToString()}"
            );
        var pad = Pair(c.padding, 0);
        var inputs = new List<string> { x, Constant("conv_w", c.weight!) };
        if (c.bias is not null)
            inputs.Add(Constant("conv_b", c.bias));
        return Node(
            "Conv",
            [.. inputs],
            ("kernel_shape", Pair(c.kernel_size, 1)),
            ("strides", Pair(c.stride, 1)),
            ("pads", new[] { pad[0], pad[1], pad[0], pad[1] }),
            ("dilations", Pair(c.dilation, 1)),
            ("group", c.groups)
        );
    }

    private string BatchNorm(BatchNorm b, string x)
    {
        if (b.running_mean is null || b.running_var is null)
            throw new NotSupportedException($"ONNX export: batch norm '{b.GetName()}' tracks no running statistics");
        long c = b.num_features;
        var scale = b.weight is null
            ? Constant("bn_scale", Enumerable.Repeat(1f, (int)c).ToArray(), [c])
            : Constant("bn_scale", b.weight);
        var bias = b.bias is null ? Constant("bn_bias", new float[c], [c]) : Constant("bn_bias", b.bias);
        return Node(
            "BatchNormalization",
            [x, scale, bias, Constant("bn_mean", b.running_mean), Constant("bn_var", b.running_var)],
            ("epsilon", b.eps)
        );
    }

    /// <summary>PyTorch's PReLU slope is per channel (dim 1); ONNX broadcasts from the last dimension, so the slope
    /// becomes <c>[C, 1, 1]</c> for NCHW values.</summary>
    private string PRelu(PReLU p, string x)
    {
        long c = p.weight!.shape[0];
        return Node("PRelu", [x, Constant("prelu_slope", p.weight, c == 1 ? [1] : [c, 1, 1])]);
    }

    private string Gemm(Linear l, string x)
    {
        var inputs = new List<string> { x, Constant("fc_w", l.weight!) };
        if (l.bias is not null)
            inputs.Add(Constant("fc_b", l.bias));
        return Node("Gemm", [.. inputs], ("transB", 1L));
    }

    private string MaxPool(MaxPool2d m, string x)
    {
        var k = Pair(m.kernel_size, 1);
        var pad = Pair(m.padding, 0);
        return Node(
            "MaxPool",
            [x],
            ("kernel_shape", k),
            ("strides", m.stride is null ? k : Pair(m.stride, 1)),
            ("pads", new[] { pad[0], pad[1], pad[0], pad[1] }),
            ("ceil_mode", m.ceil_mode ? 1L : 0L)
        );
    }

    /// <summary>A 2-d layer's (height, width) setting: TorchSharp stores one value or two, or none for the
    /// default.</summary>
    private static long[] Pair(long[]? v, long fallback) =>
        v is null || v.Length == 0 ? [fallback, fallback]
        : v.Length == 1 ? [v[0], v[0]]
        : v;

    /// <summary>The ModelProto: producer, opset, graph, and string metadata (input size, normalisation, task
    /// …).</summary>
    public byte[] ToModel(string graphName, IReadOnlyDictionary<string, string> metadata)
    {
        var graph = new ProtoWriter();
        foreach (var n in _nodes)
            graph.Message(1, n);
        graph.String(2, graphName);
        foreach (var t in _initializers)
            graph.Message(5, t);
        foreach (var i in _inputs)
            graph.Message(11, i);
        foreach (var o in _outputs)
            graph.Message(12, o);
        var model = new ProtoWriter()
            .Varint(1, IrVersion)
            .String(2, "FaceDistill")
            .String(3, typeof(OnnxGraph).Assembly.GetName().Version?.ToString() ?? "0")
            .Message(7, graph)
            .Message(8, new ProtoWriter().String(1, "").Varint(2, Opset));
        foreach (var (k, v) in metadata)
            model.Message(14, new ProtoWriter().String(1, k).String(2, v));
        return model.ToArray();
    }
}
