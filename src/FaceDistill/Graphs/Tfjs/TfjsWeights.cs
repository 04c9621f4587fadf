using System.Buffers.Binary;
using System.Text.Json;
using FaceDistill.Core;

namespace FaceDistill.Graphs.Tfjs;

/// <summary>One entry of a tfjs weights manifest.</summary>
public sealed record TfjsEntry(string Name, int[] Shape, string Dtype, string? QuantDtype, double Scale, double Min)
{
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);
    public int BytesPerValue =>
        QuantDtype switch
        {
            "uint8" => 1,
            "uint16" => 2,
            null => 4,
            _ => 0,
        };
    public long Bytes => Count * BytesPerValue;
}

/// <summary>Reads a TensorFlow.js weights manifest (<c>*-weights_manifest.json</c>) and its .bin shards, as
/// @vladmandic/face-api ships them (faceapi/SPEC.md §0.1): a JSON array of groups <c>{paths, weights: [{name, shape,
/// dtype, quantization?}]}</c>; the values lie back to back in manifest order across the group's concatenated shards,
/// row-major in the tfjs shape, with no alignment. Quantized entries take one byte (uint8) or two (uint16) per value
/// and decode as <c>(float)(q · (double)scale + (double)min)</c> — tfjs computes in double, then rounds to float32;
/// plain entries are little-endian float32, possibly at odd offsets. Every byte count is checked against the shard
/// sizes, so a truncated or padded file is an error naming it.</summary>
public sealed class TfjsWeights
{
    private readonly Dictionary<string, (TfjsEntry Entry, float[] Values)> _tensors = new(StringComparer.Ordinal);

    public string ManifestPath { get; }
    public IReadOnlyList<TfjsEntry> Entries { get; }

    private TfjsWeights(string manifestPath, List<TfjsEntry> entries)
    {
        ManifestPath = manifestPath;
        Entries = entries;
    }

    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>The values of <paramref name="name"/>, after checking its tfjs shape.</summary>
    public float[] Get(string name, params int[] expectedShape)
    {
        if (!_tensors.TryGetValue(name, out var t))
            throw FaceDistillException.ForFile(ManifestPath, $"has no weight '{name}'");
        if (expectedShape.Length > 0 && !t.Entry.Shape.SequenceEqual(expectedShape))
            throw FaceDistillException.ForFile(
                ManifestPath,
                $"weight '{name}' has shape [{string.Join(",", t.Entry.Shape)}], the network expects "
                    + $"[{string.Join(",", expectedShape)}]"
            );
        return t.Values;
    }

    public static TfjsWeights Load(string manifestPath)
    {
        if (!File.Exists(manifestPath))
            throw FaceDistillException.ForFile(
                manifestPath,
                "weights manifest not found (run `facedistill models install`)"
            );
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(manifestPath));
        }
        catch (JsonException e)
        {
            throw FaceDistillException.ForFile(manifestPath, $"malformed weights manifest ({e.Message.Split('.')[0]})");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
                throw FaceDistillException.ForFile(manifestPath, "a weights manifest must be a JSON array of groups");
            var dir = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
            var all = new List<TfjsEntry>();
            var result = new TfjsWeights(manifestPath, all);
            foreach (var group in doc.RootElement.EnumerateArray())
            {
                var entries = ParseEntries(group, manifestPath);
                all.AddRange(entries);
                var shards = group
                    .GetProperty("paths")
                    .EnumerateArray()
                    .Select(p => Path.Combine(dir, p.GetString()!))
                    .ToList();
                foreach (var s in shards.Where(s => !File.Exists(s)))
                    throw FaceDistillException.ForFile(
                        s,
                        $"weights file named by {Path.GetFileName(manifestPath)} not found"
                    );
                var bytes = shards.SelectMany(File.ReadAllBytes).ToArray();
                long expected = entries.Sum(e => e.Bytes);
                if (bytes.Length != expected)
                    throw FaceDistillException.ForFile(
                        shards[^1],
                        $"expected {expected} bytes from {Path.GetFileName(manifestPath)}, found {bytes.Length} "
                            + $"({(bytes.Length < expected ? "truncated" : "extra data")})"
                    );
                long offset = 0;
                foreach (var e in entries)
                {
                    result._tensors[e.Name] = (e, Decode(e, bytes.AsSpan((int)offset, (int)e.Bytes)));
                    offset += e.Bytes;
                }
            }
            return result;
        }
    }

    private static List<TfjsEntry> ParseEntries(JsonElement group, string manifestPath)
    {
        var list = new List<TfjsEntry>();
        try
        {
            foreach (var w in group.GetProperty("weights").EnumerateArray())
            {
                var name = w.GetProperty("name").GetString()!;
                var shape = w.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).ToArray();
                var dtype = w.GetProperty("dtype").GetString()!;
                string? q = null;
                double scale = 1,
                    min = 0;
                if (w.TryGetProperty("quantization", out var qe))
                {
                    q = qe.GetProperty("dtype").GetString();
                    scale = qe.GetProperty("scale").GetDouble();
                    min = qe.TryGetProperty("min", out var m) ? m.GetDouble() : 0;
                }
                var entry = new TfjsEntry(name, shape, dtype, q, scale, min);
                if (dtype is not ("float32" or "int32") || entry.BytesPerValue == 0)
                    throw FaceDistillException.ForFile(
                        manifestPath,
                        $"weight '{name}': unsupported dtype {dtype}{(q is null ? "" : $"/{q}")}"
                    );
                list.Add(entry);
            }
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw FaceDistillException.ForFile(manifestPath, $"malformed weights manifest entry ({e.Message})");
        }
        return list;
    }

    public static float[] Decode(TfjsEntry e, ReadOnlySpan<byte> bytes)
    {
        var v = new float[e.Count];
        switch (e.QuantDtype)
        {
            case "uint8":
                for (int i = 0; i < v.Length; i++)
                    v[i] = (float)(bytes[i] * e.Scale + e.Min);
                break;
            case "uint16":
                for (int i = 0; i < v.Length; i++)
                    v[i] = (float)(BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(2 * i)) * e.Scale + e.Min);
                break;
            default:
                for (int i = 0; i < v.Length; i++)
                    v[i] =
                        e.Dtype == "int32"
                            ? BinaryPrimitives.ReadInt32LittleEndian(bytes.Slice(4 * i))
                            : BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(4 * i));
                break;
        }
        return v;
    }
}
