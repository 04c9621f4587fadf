using System.Text.Json;
using FaceDistill.Core;

namespace FaceDistill.Graphs.Tfjs;

/// <summary>One node of a tfjs graph model: its op, its inputs (node names, <c>:k</c> output suffixes dropped) and its
/// attributes as tfjs writes them (<c>{"i": "2"}</c>, <c>{"list": {"i": [...]}}</c>, <c>{"s": base64}</c>,
/// …).</summary>
public sealed record GraphNode(string Name, string Op, IReadOnlyList<string> Inputs, JsonElement Attrs)
{
    public bool Has(string attr) => Attrs.ValueKind == JsonValueKind.Object && Attrs.TryGetProperty(attr, out _);

    public long[] Ints(string attr) =>
        Has(attr) && Attrs.GetProperty(attr).TryGetProperty("list", out var l) && l.TryGetProperty("i", out var i)
            ? i.EnumerateArray().Select(e => long.Parse(e.GetString()!)).ToArray()
            : [];

    public string Str(string attr) =>
        Has(attr) && Attrs.GetProperty(attr).TryGetProperty("s", out var s)
            ? System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(s.GetString()!))
            : "";

    public string[] Strs(string attr) =>
        Has(attr) && Attrs.GetProperty(attr).TryGetProperty("list", out var l) && l.TryGetProperty("s", out var s)
            ? s.EnumerateArray()
                .Select(e => System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(e.GetString()!)))
                .ToArray()
            : [];

    public bool Bool(string attr) =>
        Has(attr) && Attrs.GetProperty(attr).TryGetProperty("b", out var b) && b.GetBoolean();

    public double Float(string attr, double fallback = 0) =>
        Has(attr) && Attrs.GetProperty(attr).TryGetProperty("f", out var f) ? f.GetDouble() : fallback;
}

/// <summary>A constant of the graph, decoded to float32 (weights) or int64 (shapes, axes, paddings).</summary>
public sealed record GraphConstant(long[] Shape, float[]? Floats, long[]? Ints);

/// <summary>
/// A tfjs graph model (<c>model.json</c> with <c>"format": "graph-model"</c>) read from its files: the topology
/// (<c>modelTopology.node</c>), the signature's inputs and outputs, and every weight of the manifest decoded from its
/// shards — float32, float16, int32, and the affine-quantised uint8/uint16 (<c>value·scale + min</c>). A missing or
/// short shard, an unknown dtype or a node that refers to nothing is a one-line error naming the file and the node.
/// </summary>
public sealed class TfjsGraph
{
    public required string Path { get; init; }
    public required IReadOnlyList<GraphNode> Nodes { get; init; }
    public required IReadOnlyDictionary<string, GraphConstant> Constants { get; init; }

    /// <summary>The signature's output names (<c>global_pooling/Mean</c>, …) without <c>:0</c> suffixes.</summary>
    public required IReadOnlyList<string> Outputs { get; init; }

    /// <summary>The placeholder's shape as the signature gives it (−1 for a free batch size).</summary>
    public required long[] InputShape { get; init; }

    public static TfjsGraph Load(string modelJson)
    {
        if (!File.Exists(modelJson))
            throw FaceDistillException.ForFile(modelJson, "graph model not found");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(modelJson));
        }
        catch (JsonException e)
        {
            throw FaceDistillException.ForFile(modelJson, $"malformed JSON: {e.Message.Split(". ")[0]}");
        }
        var root = doc.RootElement;
        if (!root.TryGetProperty("modelTopology", out var topo) || !topo.TryGetProperty("node", out var nodeList))
            throw FaceDistillException.ForFile(modelJson, "not a tfjs graph model (no modelTopology.node)");
        var nodes = nodeList
            .EnumerateArray()
            .Select(n => new GraphNode(
                n.GetProperty("name").GetString()!,
                n.GetProperty("op").GetString()!,
                n.TryGetProperty("input", out var i)
                    ? i.EnumerateArray().Select(x => Clean(x.GetString()!)).Where(x => !x.StartsWith('^')).ToList()
                    : [],
                n.TryGetProperty("attr", out var a) ? a.Clone() : default
            ))
            .ToList();
        var constants = ReadWeights(modelJson, root);
        var byName = nodes.Select(n => n.Name).ToHashSet();
        foreach (var n in nodes)
        {
            if (n.Op == "Const" && !constants.ContainsKey(n.Name))
                throw FaceDistillException.ForFile(
                    modelJson,
                    $"node '{n.Name}': constant without a weight in the manifest"
                );
            foreach (var input in n.Inputs)
                if (!byName.Contains(input))
                    throw FaceDistillException.ForFile(
                        modelJson,
                        $"node '{n.Name}': input '{input}' is not a node of the graph"
                    );
        }
        return new TfjsGraph
        {
            Path = modelJson,
            Nodes = nodes,
            Constants = constants,
            Outputs = SignatureOutputs(root, nodes),
            InputShape = InputShapeOf(nodes),
        };
    }

    private static string Clean(string input) => input.Split(':')[0];

    private static List<string> SignatureOutputs(JsonElement root, List<GraphNode> nodes)
    {
        if (root.TryGetProperty("signature", out var sig) && sig.TryGetProperty("outputs", out var outs))
            return outs.EnumerateObject().Select(o => Clean(o.Value.GetProperty("name").GetString()!)).ToList();
        var used = nodes.SelectMany(n => n.Inputs).ToHashSet();
        return nodes.Where(n => n.Op != "Const" && !used.Contains(n.Name)).Select(n => n.Name).ToList();
    }

    private static long[] InputShapeOf(List<GraphNode> nodes)
    {
        var p = nodes.FirstOrDefault(n => n.Op == "Placeholder");
        if (p is null || !p.Has("shape"))
            return [];
        var shape = p.Attrs.GetProperty("shape").GetProperty("shape");
        return shape.TryGetProperty("dim", out var dims)
            ? dims.EnumerateArray()
                .Select(d => d.TryGetProperty("size", out var s) ? long.Parse(s.GetString()!) : -1)
                .ToArray()
            : [];
    }

    private static Dictionary<string, GraphConstant> ReadWeights(string modelJson, JsonElement root)
    {
        var result = new Dictionary<string, GraphConstant>(StringComparer.Ordinal);
        if (!root.TryGetProperty("weightsManifest", out var manifest))
            return result;
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(modelJson))!;
        foreach (var group in manifest.EnumerateArray())
        {
            var bytes = group
                .GetProperty("paths")
                .EnumerateArray()
                .SelectMany(p =>
                {
                    var shard = System.IO.Path.Combine(dir, p.GetString()!);
                    if (!File.Exists(shard))
                        throw FaceDistillException.ForFile(
                            shard,
                            $"weight shard of {System.IO.Path.GetFileName(modelJson)} not found"
                        );
                    return File.ReadAllBytes(shard);
                })
                .ToArray();
            long offset = 0;
            foreach (var w in group.GetProperty("weights").EnumerateArray())
            {
                var name = w.GetProperty("name").GetString()!;
                var shape = w.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                long count = shape.Aggregate(1L, (a, b) => a * b);
                var c = Decode(modelJson, name, w, bytes, ref offset, count);
                result[name] = c with { Shape = shape };
            }
            if (offset != bytes.Length)
                throw FaceDistillException.ForFile(
                    modelJson,
                    $"the manifest describes {offset} bytes, its shards hold {bytes.Length}"
                );
        }
        return result;
    }

    private static GraphConstant Decode(
        string file,
        string name,
        JsonElement w,
        byte[] bytes,
        ref long offset,
        long count
    )
    {
        var dtype = w.GetProperty("dtype").GetString();
        string? q = w.TryGetProperty("quantization", out var qe) ? qe.GetProperty("dtype").GetString() : null;
        int size = (q ?? dtype) switch
        {
            "float32" or "int32" => 4,
            "float16" or "uint16" => 2,
            "uint8" or "bool" => 1,
            var other => throw FaceDistillException.ForFile(file, $"node '{name}': unsupported weight dtype '{other}'"),
        };
        if (offset + count * size > bytes.Length)
            throw FaceDistillException.ForFile(
                file,
                $"node '{name}': weight data runs past the end of the shards ({bytes.Length} bytes)"
            );
        var span = bytes.AsSpan((int)offset, (int)(count * size));
        offset += count * size;
        if (dtype == "int32" && q is null)
        {
            var ints = new long[count];
            for (int i = 0; i < count; i++)
                ints[i] = BitConverter.ToInt32(span[(4 * i)..]);
            return new GraphConstant([], null, ints);
        }
        var f = new float[count];
        switch (q ?? dtype)
        {
            case "float32":
                for (int i = 0; i < count; i++)
                    f[i] = BitConverter.ToSingle(span[(4 * i)..]);
                break;
            case "float16":
                for (int i = 0; i < count; i++)
                    f[i] = (float)BitConverter.ToHalf(span[(2 * i)..]);
                break;
            default:
                double scale = qe.GetProperty("scale").GetDouble(),
                    min = qe.GetProperty("min").GetDouble();
                for (int i = 0; i < count; i++)
                    f[i] = (float)((size == 1 ? span[i] : BitConverter.ToUInt16(span[(2 * i)..])) * scale + min);
                break;
        }
        return new GraphConstant([], f, null);
    }
}
