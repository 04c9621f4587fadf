using System.Text.Json;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Faces.Zoo;
using FaceDistill.Graphs.Tfjs;
using static TorchSharp.torch;

namespace FaceDistill.Faces;

/// <summary>
/// The imported graph models against the outputs of the JavaScript original (<c>scripts/reference/human</c>): the fixed
/// pattern and the face crops of the reference file, through the same preprocessing; per output the largest absolute
/// difference relative to the largest reference magnitude (tolerance <see cref="Tolerance"/>).
/// </summary>
public static class GraphReferenceCheck
{
    public const double Tolerance = 1e-4;

    /// <summary>The fixed pattern of the reference harness, NCHW: value(n, y, x, c) = (n·131 + y·17 + x·29 + c·71) mod
    /// 256.</summary>
    public static Tensor Pattern(int n, int size, int channels = 3)
    {
        var v = new float[n * channels * size * size];
        for (int b = 0; b < n; b++)
        for (int c = 0; c < channels; c++)
        for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++)
            v[((b * channels + c) * size + y) * size + x] = (b * 131 + y * 17 + x * 29 + c * 71) % 256;
        return tensor(v, [n, channels, size, size]);
    }

    /// <summary>Every installed graph net of human's packages against its reference file in <paramref name="human"/>
    /// (<c>refs_cpu/&lt;net&gt;.json</c>, <c>crops/</c>); a net that is not installed, or has no reference file, is
    /// skipped. <paramref name="log"/> hears each net as it is checked.</summary>
    public static List<ReferenceDiff> All(string human, string? home, Action<string>? log = null)
    {
        var diffs = new List<ReferenceDiff>();
        string crops = Path.Combine(human, "crops");
        string? Refs(string net) =>
            HumanZoo.VerifyModel(net, home).Count == 0
            && Path.Combine(human, "refs_cpu", $"{net}.json") is var f
            && File.Exists(f)
                ? f
                : null;
        void Check(string net, Func<string, List<ReferenceDiff>> check)
        {
            if (Refs(net) is not { } refs)
                return;
            log?.Invoke($"{net} (imported tfjs graph)");
            diffs.AddRange(check(refs));
        }
        Check(
            "faceres",
            refs =>
            {
                using var net = Zoo.FaceRes.Load(home);
                return FaceRes(net, refs, crops);
            }
        );
        foreach (var name in GraphFaceNets.All.Keys.Where(n => n != "faceres"))
            Check(
                name,
                refs =>
                {
                    using var net = GraphFaceNet.Load(name, home);
                    return FaceNet(net, refs, crops);
                }
            );
        Check(
            EmotionNet.Name,
            refs =>
            {
                using var net = EmotionNet.Load(home);
                return Emotion(net, refs, crops);
            }
        );
        Check(
            BlazeFace.ModelName,
            refs =>
            {
                using var net = BlazeFace.Load(home);
                return Blaze(net, refs, crops);
            }
        );
        return diffs;
    }

    /// <summary>faceres against <paramref name="refsJson"/> (crops read from <paramref name="cropsDir"/>).</summary>
    public static List<ReferenceDiff> FaceRes(FaceRes net, string refsJson, string cropsDir)
    {
        if (!File.Exists(refsJson))
            throw FaceDistillException.ForFile(refsJson, "reference outputs not found");
        using var doc = JsonDocument.Parse(File.ReadAllText(refsJson));
        var diffs = new List<ReferenceDiff>();
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            var name = c.GetProperty("name").GetString()!;
            using var input =
                name == "pattern"
                    ? Pattern(2, Zoo.FaceRes.InputSize)
                    : Zoo.FaceRes.Input(ImageCodec.Load(Path.Combine(cropsDir, name)));
            using var o = net.Forward(input);
            var got = new Dictionary<string, Tensor>
            {
                [Zoo.FaceRes.DescriptorOutput] = o.Descriptor,
                [Zoo.FaceRes.AgeOutput] = o.Age,
                [Zoo.FaceRes.MaleOutput] = o.Male,
            };
            diffs.AddRange(Compare("faceres", c, got, refsJson, stride: 1));
        }
        return diffs;
    }

    /// <summary>An imported face net (<see cref="GraphFaceNet"/>) against <paramref name="refsJson"/>: every output the
    /// reference holds, on the pattern as it is and on the crops through the net's own preprocessing.</summary>
    public static List<ReferenceDiff> FaceNet(GraphFaceNet net, string refsJson, string cropsDir) =>
        Graph(
            net.Spec.Name,
            net.Module,
            refsJson,
            name =>
                name == "pattern"
                    ? Pattern(2, net.Spec.InputSize)
                    : net.Input(Crop01(ImageCodec.Load(Path.Combine(cropsDir, name))))
        );

    /// <summary>human's expression net (<see cref="EmotionNet"/>) against <paramref name="refsJson"/> (made with
    /// <c>GRAY=1 SCALE=2 OFFSET=-1</c>: the crops through the net's own preprocessing; the pattern as it is, one
    /// channel): the softmax output and the logits before it.</summary>
    public static List<ReferenceDiff> Emotion(EmotionNet net, string refsJson, string cropsDir) =>
        Graph(
            EmotionNet.Name,
            net.Module,
            refsJson,
            name =>
                name == "pattern"
                    ? Pattern(2, EmotionNet.InputSize, channels: 1)
                    : EmotionNet.Input(Crop01(ImageCodec.Load(Path.Combine(cropsDir, name))))
        );

    /// <summary>human's face detector (<see cref="BlazeFace"/>) against <paramref name="refsJson"/> (made with
    /// <c>SCALE=2 OFFSET=-1 STRIDE=11</c>: the crops through the detector's own preprocessing, every 11th value kept;
    /// the pattern as it is, one image as the graph's batch is fixed): its four raw outputs.</summary>
    public static List<ReferenceDiff> Blaze(BlazeFace net, string refsJson, string cropsDir) =>
        Graph(
            BlazeFace.ModelName,
            net.Module,
            refsJson,
            name =>
                name == "pattern"
                    ? Pattern(1, BlazeFace.InputSize)
                    : BlazeFace.Input(ImageCodec.Load(Path.Combine(cropsDir, name)))
        );

    /// <summary>An imported graph against <paramref name="refsJson"/>: every output each reference case holds, on the
    /// graph input <paramref name="input"/> makes for the case's name.</summary>
    private static List<ReferenceDiff> Graph(
        string net,
        TfjsGraphModule module,
        string refsJson,
        Func<string, Tensor> input
    )
    {
        if (!File.Exists(refsJson))
            throw FaceDistillException.ForFile(refsJson, "reference outputs not found");
        using var doc = JsonDocument.Parse(File.ReadAllText(refsJson));
        int stride = doc.RootElement.TryGetProperty("stride", out var st) ? st.GetInt32() : 1;
        var diffs = new List<ReferenceDiff>();
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            var name = c.GetProperty("name").GetString()!;
            var outputs = c.GetProperty("outputs").EnumerateObject().Select(o => o.Name).ToList();
            using var scope = NewDisposeScope();
            var x = input(name);
            Dictionary<string, Tensor> got;
            using (no_grad())
                got = module.Run(x, outputs);
            diffs.AddRange(Compare(net, c, got, refsJson, stride));
        }
        return diffs;
    }

    /// <summary>Each output a reference case holds against the net's (every <paramref name="stride"/>-th value, as the
    /// reference kept them): the largest difference relative to the reference's largest magnitude.</summary>
    private static IEnumerable<ReferenceDiff> Compare(
        string net,
        JsonElement refCase,
        Dictionary<string, Tensor> got,
        string refsJson,
        int stride
    )
    {
        var name = refCase.GetProperty("name").GetString()!;
        foreach (var output in refCase.GetProperty("outputs").EnumerateObject())
        {
            var expected = output.Value.GetProperty("values").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            var actual = got[output.Name].contiguous().data<float>().Where((_, j) => j % stride == 0).ToArray();
            if (actual.Length != expected.Length)
                throw FaceDistillException.ForFile(
                    refsJson,
                    $"{name}/{output.Name}: {actual.Length} values, the reference has {expected.Length}"
                );
            double scale = Math.Max(expected.Max(Math.Abs), 1e-12);
            double worst = expected.Select((e, i) => Math.Abs(e - actual[i])).Max() / scale;
            yield return new ReferenceDiff(net, $"{name} {output.Name}", worst, Tolerance, "rel");
        }
    }

    private static Tensor Crop01(RgbImage crop)
    {
        var px = new float[3 * crop.Width * crop.Height];
        for (int c = 0; c < 3; c++)
        for (int i = 0; i < crop.Width * crop.Height; i++)
            px[c * crop.Width * crop.Height + i] = crop.Pixels[3 * i + c] / 255f;
        return tensor(px, [1, 3, crop.Height, crop.Width]);
    }
}
