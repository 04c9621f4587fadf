using System.Text.Json;
using FaceDistill.Core;
using FaceDistill.Distillation.Teachers;
using FaceDistill.Graphs.Tfjs;
using static TorchSharp.torch;

namespace FaceDistill.Tests;

/// <summary>The tfjs graph importer: its ops on a small graph written by the test, its errors, and faceres against the
/// JavaScript original (when human's models are installed).</summary>
public class GraphImportTests
{
    private static string Write(
        string dir,
        object topology,
        IEnumerable<(string Name, long[] Shape, float[] Values)> weights,
        string dtype = "float32"
    )
    {
        var specs = new List<object>();
        var bytes = new List<byte>();
        foreach (var (name, shape, values) in weights)
        {
            if (dtype == "float16")
            {
                specs.Add(
                    new
                    {
                        name,
                        shape,
                        dtype = "float32",
                        quantization = new { dtype = "float16" },
                    }
                );
                foreach (var v in values)
                    bytes.AddRange(BitConverter.GetBytes((Half)v));
            }
            else
            {
                specs.Add(
                    new
                    {
                        name,
                        shape,
                        dtype = "float32",
                    }
                );
                foreach (var v in values)
                    bytes.AddRange(BitConverter.GetBytes(v));
            }
        }
        File.WriteAllBytes(Path.Combine(dir, "w.bin"), bytes.ToArray());
        var model = new
        {
            format = "graph-model",
            modelTopology = topology,
            weightsManifest = new[] { new { paths = new[] { "w.bin" }, weights = specs } },
        };
        var path = Path.Combine(dir, "model.json");
        File.WriteAllText(path, JsonSerializer.Serialize(model));
        return path;
    }

    private static object Node(string name, string op, string[]? input = null, object? attr = null) =>
        new
        {
            name,
            op,
            input = input ?? [],
            attr = attr ?? new { },
        };

    private static string B64(string s) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(s));

    /// <summary>input (NHWC 1×4×4×2) → SAME 3×3 conv, stride 2 → + per-channel bias → Relu6 → Mean over H, W →
    /// MatMul.</summary>
    private static string SmallGraph(string dir, string dtype = "float32")
    {
        var conv = Enumerable.Range(0, 3 * 3 * 2 * 3).Select(i => (i % 7 - 3) * 0.1f).ToArray();
        var nodes = new[]
        {
            Node("x", "Placeholder"),
            Node("k", "Const"),
            Node("b", "Const"),
            Node("six", "Const"),
            Node("axes", "Const"),
            Node("fc", "Const"),
            Node(
                "conv",
                "Conv2D",
                ["x", "k"],
                new
                {
                    strides = new { list = new { i = new[] { "1", "2", "2", "1" } } },
                    padding = new { s = B64("SAME") },
                }
            ),
            Node("add", "Add", ["conv", "b"]),
            Node("relu", "Relu", ["add"]),
            Node("clip", "Minimum", ["relu", "six"]),
            Node("mean", "Mean", ["clip", "axes"], new { keep_dims = new { b = false } }),
            Node("out", "MatMul", ["mean", "fc"]),
        };
        var path = Write(
            dir,
            new { node = nodes },
            [
                ("k", [3, 3, 2, 3], conv),
                ("b", [3], [0.5f, -0.2f, 0.1f]),
                ("six", [], [6f]),
                ("fc", [3, 2], [1, 0, 0, 1, 1, 1]),
            ],
            dtype
        );
        // the int32 axes constant: appended as a second weight group
        var model = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(path))!;
        File.WriteAllBytes(Path.Combine(dir, "axes.bin"), [.. BitConverter.GetBytes(1), .. BitConverter.GetBytes(2)]);
        var manifest = JsonSerializer.Deserialize<List<object>>(model["weightsManifest"].GetRawText())!;
        manifest.Add(
            new
            {
                paths = new[] { "axes.bin" },
                weights = new[]
                {
                    new
                    {
                        name = "axes",
                        shape = new[] { 2 },
                        dtype = "int32",
                    },
                },
            }
        );
        File.WriteAllText(
            path,
            JsonSerializer.Serialize(
                new
                {
                    format = "graph-model",
                    modelTopology = model["modelTopology"],
                    weightsManifest = manifest,
                }
            )
        );
        return path;
    }

    [Fact]
    public void ASmallGraphComputesWhatTensorFlowWould()
    {
        var dir = TestUtil.TempDir();
        var graph = TfjsGraph.Load(SmallGraph(dir));
        using var module = new TfjsGraphModule(graph);
        Assert.Equal(["out"], graph.Outputs);
        // NHWC input 1×4×4×2, values v = y·8 + x·2 + c, given to the module as NCHW
        var nhwc = Enumerable.Range(0, 32).Select(i => (float)i).ToArray();
        using var x = tensor(nhwc, [1, 4, 4, 2]).permute(0, 3, 1, 2).contiguous();
        using var y = module.Run(x)["out"];
        // by hand: SAME with stride 2 on 4 pads (0, 1) per axis; out[oy, ox, co] = Σ k[ky, kx, ci, co]·in[2oy+ky,
        // 2ox+kx, ci]
        var k = Enumerable.Range(0, 54).Select(i => (i % 7 - 3) * 0.1).ToArray();
        double[] bias = [0.5, -0.2, 0.1];
        var mean = new double[3];
        for (int oy = 0; oy < 2; oy++)
        for (int ox = 0; ox < 2; ox++)
        for (int co = 0; co < 3; co++)
        {
            double s = bias[co];
            for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
            for (int ci = 0; ci < 2; ci++)
            {
                int iy = 2 * oy + ky,
                    ix = 2 * ox + kx;
                if (iy < 4 && ix < 4)
                    s += k[((ky * 3 + kx) * 2 + ci) * 3 + co] * nhwc[(iy * 4 + ix) * 2 + ci];
            }
            mean[co] += Math.Clamp(s, 0, 6) / 4;
        }
        double[] expected = [mean[0] + mean[2], mean[1] + mean[2]];
        var got = y.data<float>().ToArray();
        Assert.Equal(expected[0], got[0], 4);
        Assert.Equal(expected[1], got[1], 4);
        // the weights are parameters (a student can fine-tune them)
        Assert.Equal(4, module.parameters().Count());
    }

    [Fact]
    public void FusedConvolutionChainsComputeTheSameFunctionAndGradients()
    {
        var dir = TestUtil.TempDir();
        using var module = new TfjsGraphModule(TfjsGraph.Load(SmallGraph(dir)));
        Assert.Equal(1, module.FusedChains); // conv → add → relu → minimum(6)
        manual_seed(3);
        using var x = randn(2, 2, 5, 5) * 4;
        var results = new List<(float[] Y, float[] Grad)>();
        foreach (var fuse in new[] { false, true })
        {
            module.FuseConvChains = fuse;
            module.zero_grad();
            using var y = module.Run(x)["out"];
            using var loss = (y * y).sum();
            loss.backward();
            var kernel = module.parameters().First(p => p.shape.Length == 4);
            results.Add((y.data<float>().ToArray(), kernel.grad!.data<float>().ToArray()));
        }
        for (int i = 0; i < results[0].Y.Length; i++)
            Assert.Equal(results[0].Y[i], results[1].Y[i], 5);
        Assert.Contains(results[0].Grad, g => g != 0);
        for (int i = 0; i < results[0].Grad.Length; i++)
            Assert.Equal(results[0].Grad[i], results[1].Grad[i], 4);
        // asking for a value inside the chain runs node by node and still gives it
        using var relu = module.Run(x, ["relu"])["relu"];
        Assert.True(relu.min().item<float>() >= 0);
    }

    [Fact]
    public void Float16WeightsDecodeAndBadGraphsAreOneLineErrorsNamingTheNode()
    {
        var dir = TestUtil.TempDir();
        var g16 = TfjsGraph.Load(SmallGraph(dir, "float16"));
        Assert.Equal(0.5f, g16.Constants["b"].Floats![0]);
        Assert.Equal(-0.2f, g16.Constants["b"].Floats![1], 3);
        // an unknown op
        var bad = TestUtil.TempDir();
        var path = Write(bad, new { node = new[] { Node("x", "Placeholder"), Node("y", "FancyOp", ["x"]) } }, []);
        var e = Assert.Throws<FaceDistillException>(() => new TfjsGraphModule(TfjsGraph.Load(path)));
        Assert.Contains("node 'y': op 'FancyOp' is not supported", e.Message);
        Assert.Contains("model.json", e.Message);
        // a missing shard, a short shard
        File.Delete(Path.Combine(dir, "w.bin"));
        Assert.Contains(
            "w.bin: weight shard",
            Assert.Throws<FaceDistillException>(() => TfjsGraph.Load(Path.Combine(dir, "model.json"))).Message
        );
        File.WriteAllBytes(Path.Combine(dir, "w.bin"), new byte[10]);
        Assert.Contains(
            "runs past the end",
            Assert.Throws<FaceDistillException>(() => TfjsGraph.Load(Path.Combine(dir, "model.json"))).Message
        );
        // an input that names nothing
        var dangling = TestUtil.TempDir();
        var p2 = Write(dangling, new { node = new[] { Node("y", "Relu", ["nowhere"]) } }, []);
        Assert.Contains(
            "node 'y': input 'nowhere'",
            Assert.Throws<FaceDistillException>(() => TfjsGraph.Load(p2)).Message
        );
    }

    [Fact]
    public void TfLegacyResizeSamplesAtIndexTimesScale()
    {
        // 2 → 4: positions 0, 0.5, 1, 1.5 → [a, (a+b)/2, b, b] (the last neighbour clamped)
        using var x = tensor(new float[] { 10, 20 }, [1, 1, 1, 2]);
        using var y = TfOps.ResizeBilinearLegacy(x, 1, 4);
        Assert.Equal([10f, 15f, 20f, 20f], y.data<float>().ToArray());
    }

    [HumanFact]
    public void FaceResMatchesTheJavaScriptOriginal()
    {
        var refs = Path.Combine(RepoPaths.Root(), "scripts", "reference", "human");
        using var net = FaceRes.Load();
        var diffs = GraphReferenceCheck.FaceRes(
            net,
            Path.Combine(refs, "refs_cpu", "faceres.json"),
            Path.Combine(refs, "crops")
        );
        Assert.Equal(9, diffs.Count);
        Assert.All(diffs, d => Assert.True(d.Passed, $"{d.Case}: {d.MaxDiff:G3} > {d.Tolerance}"));
    }

    [HumanFact]
    public void FaceResIsATeacherWithA1024dEmbedding()
    {
        using var teacher = TeacherFactory.Create("zoo:faceres");
        using var x = rand(2, 3, 112, 112) * 2 - 1;
        var o = teacher.Run(x);
        Assert.Equal([2L, 1024L], o.Embedding!.shape);
        Assert.Null(o.Logits);
        Assert.Equal("zoo:faceres", teacher.Name);
        // what the net computes from a crop is part of its fingerprint: caches made under other preprocessing or
        // another output node are never read for it
        var spec = Faces.Zoo.GraphFaceNets.All["faceres"];
        var fingerprint = TeacherFactory.Fingerprint("zoo:faceres");
        Assert.Contains(spec.Preprocessing, fingerprint);
        Assert.Contains(spec.Output, fingerprint);
        Assert.NotEqual(fingerprint, TeacherFactory.Fingerprint("zoo:mobilefacenet"));
    }

    [HumanTheory]
    [InlineData("faceres-deep", 1024, 9)]
    [InlineData("mobileface", 256, 3)]
    [InlineData("mobilefacenet", 192, 3)]
    public void ImportedFaceNetsMatchTheJavaScriptOriginalAndTeach(string name, int width, int checks)
    {
        var refs = Path.Combine(RepoPaths.Root(), "scripts", "reference", "human");
        using (var net = FaceDistill.Faces.Zoo.GraphFaceNet.Load(name))
        {
            var diffs = GraphReferenceCheck.FaceNet(
                net,
                Path.Combine(refs, "refs_cpu", $"{name}.json"),
                Path.Combine(refs, "crops")
            );
            Assert.Equal(checks, diffs.Count);
            Assert.All(diffs, d => Assert.True(d.Passed, $"{d.Case}: {d.MaxDiff:G3} > {d.Tolerance}"));
        }
        using var teacher = TeacherFactory.Create($"zoo:{name}");
        using var x = rand(2, 3, 64, 64) * 2 - 1;
        var o = teacher.Run(x);
        Assert.Equal([2L, (long)width], o.Embedding!.shape);
        Assert.Equal(width, teacher.EmbeddingSize);
    }

    [HumanFact]
    public void TheEmotionNetMatchesTheJavaScriptOriginalAndTeachesInFer2013Order()
    {
        var refs = Path.Combine(RepoPaths.Root(), "scripts", "reference", "human");
        using (var net = FaceDistill.Faces.Zoo.EmotionNet.Load())
        {
            var diffs = GraphReferenceCheck.Emotion(
                net,
                Path.Combine(refs, "refs_cpu", "emotion.json"),
                Path.Combine(refs, "crops")
            );
            Assert.Equal(6, diffs.Count); // softmax and logits, on the pattern and two crops
            Assert.All(diffs, d => Assert.True(d.Passed, $"{d.Case}: {d.MaxDiff:G3} > {d.Tolerance}"));
        }
        // the teacher's logits are the net's, re-ordered from (angry, disgust, fear, happy, sad, surprise, neutral)
        // to FER2013's (… happy, neutral, sad, surprise)
        using var teacher = TeacherFactory.Create("zoo:emotion");
        var img = FaceDistill.Data.ImageCodec.Load(Path.Combine(refs, "crops", "sample1_face0_aligned.png"));
        var px = new float[3 * img.Width * img.Height];
        for (int c = 0; c < 3; c++)
        for (int i = 0; i < img.Width * img.Height; i++)
            px[c * img.Width * img.Height + i] = img.Pixels[3 * i + c] / 127.5f - 1; // a crop in [-1, 1]
        using var crop = tensor(px, [1, 3, img.Height, img.Width]);
        var o = teacher.Run(crop);
        Assert.Equal([1L, 7L], o.Logits!.shape);
        Assert.Equal([1L, 256L], o.Embedding!.shape);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(refs, "refs_cpu", "emotion.json")));
        var raw = doc
            .RootElement.GetProperty("cases")[1]
            .GetProperty("outputs")
            .GetProperty(FaceDistill.Faces.Zoo.EmotionNet.LogitsOutput)
            .GetProperty("values")
            .EnumerateArray()
            .Select(e => e.GetSingle())
            .ToArray();
        var got = o.Logits.data<float>().ToArray();
        int[] fromNet = [0, 1, 2, 3, 6, 4, 5];
        for (int k = 0; k < 7; k++)
            Assert.True(Math.Abs(got[k] - raw[fromNet[k]]) < 1e-3 * Math.Max(1, Math.Abs(raw[fromNet[k]])), $"{k}");
        Assert.Contains(FaceDistill.Faces.Zoo.EmotionNet.Preprocessing, TeacherFactory.Fingerprint("zoo:emotion"));
    }

    [HumanSharedFact]
    public void TheProbeFindsThePreprocessingAnImportedNetWasTrainedWith()
    {
        var glint = Path.Combine(TestUtil.Shared()!, "datasets", "glint6");
        using var net = FaceDistill.Faces.Zoo.GraphFaceNet.Load("mobileface");
        var rows = FaceDistill.Evaluation.PreprocessingProbe.Run(net, glint, 12);
        Assert.Equal(8, rows.Count);
        // mobileface's graph normalises its input itself: fed RGB in [0, 255] (FaceDistill's choice) it separates the
        // six identities; fed a crop already in [0, 1] or [−1, 1] it barely does
        var best = rows.MaxBy(r => r.Auc)!;
        Assert.True(best.Shipped, $"best: {best.Variant} at {best.Auc:F3}");
        Assert.True(best.Auc > 0.8, $"AUC {best.Auc:F3}");
        Assert.All(rows.Where(r => r.Variant.Range is "[0, 1]" or "[-1, 1]"), r => Assert.True(r.Auc < 0.75, $"{r}"));
        var (code, _, err) = CliHarness.Run("models", "probe", "nope", glint);
        Assert.Equal(2, code);
        Assert.Contains("'nope' is not an imported graph net", err);
    }

    [HumanFact]
    public void AnImportedNetFineTunesAsABackboneAndRoundTripsThroughItsWeights()
    {
        var backbone = FaceDistill.Models.Backbones.Create("zoo:mobileface", 64, 64);
        Assert.Equal(64, backbone.EmbeddingSize); // the net's 256-d embedding through a learned map to 64
        manual_seed(5);
        using var x = rand(4, 3, 64, 64) * 2 - 1;
        using var target = randn(4, 64);
        var opt = optim.Adam(backbone.parameters(), 1e-3);
        var losses = new List<float>();
        backbone.train();
        for (int step = 0; step < 6; step++)
        {
            opt.zero_grad();
            using var e = backbone.call(x);
            using var loss = (1 - nn.functional.cosine_similarity(e, target)).mean();
            loss.backward();
            opt.step();
            losses.Add(loss.item<float>());
        }
        Assert.True(losses[^1] < losses[0] - 0.05, $"loss {losses[0]} → {losses[^1]}");
        // the graph's own weights moved (not only the projection)
        var fresh = FaceDistill.Models.Backbones.Create("zoo:mobileface", 64, 64);
        var graphWeight = backbone.named_parameters().First(p => p.name.StartsWith("graph.")).name;
        using (var d = (backbone.get_parameter(graphWeight) - fresh.get_parameter(graphWeight)).abs().max())
            Assert.True(d.item<float>() > 0);
        // saved and loaded into a fresh instance, it computes the same embeddings
        var path = Path.Combine(TestUtil.TempDir(), "ft.bin");
        backbone.save(path);
        fresh.load(path);
        backbone.eval();
        fresh.eval();
        using var a = backbone.call(x);
        using var b = fresh.call(x);
        Assert.True(a.allclose(b, 1e-5, 1e-6));
    }

    [HumanTheory]
    [InlineData("faceres", 64, 128)]
    [InlineData("mobileface", 112, 256)]
    [InlineData("mobilefacenet", 64, 192)]
    public void AnImportedNetExportsToOnnxAndOnnxRuntimeAgrees(string name, int size, int embedding)
    {
        // through the student's resize (64 → the net's input) or without it, with and without a projection
        var backbone = FaceDistill.Models.Backbones.Create($"zoo:{name}", size, embedding);
        using var model = new FaceDistill.Models.FaceModel(backbone, new FaceDistill.Models.Heads.NoHead());
        var path = Path.Combine(TestUtil.TempDir(), "m.onnx");
        var r = FaceDistill.Export.OnnxExport.Export(model, FaceDistill.Data.FaceTask.Recognition, path);
        Assert.True(r.MaxDifference < 1e-4, $"{name}: {r.MaxDifference}");
        Assert.Equal([("embedding", (long)embedding)], r.Outputs);
    }
}

/// <summary>A theory that needs human's models in the cache; skipped otherwise.</summary>
public sealed class HumanTheoryAttribute : TheoryAttribute
{
    public HumanTheoryAttribute()
    {
        if (FaceDistill.Faces.Zoo.HumanZoo.Verify().Count > 0)
            Skip = "human's models are not installed (run `facedistill models install`)";
    }
}

/// <summary>A test that needs human's models in the cache (<c>facedistill models install</c>); skipped
/// otherwise.</summary>
/// <summary>A test that needs human's models and ../shared.</summary>
public sealed class HumanSharedFactAttribute : FactAttribute
{
    public HumanSharedFactAttribute()
    {
        if (FaceDistill.Faces.Zoo.HumanZoo.Verify().Count > 0)
            Skip = "human's models are not installed (run `facedistill models install`)";
        else if (TestUtil.Shared() is null)
            Skip = "../shared is absent (real datasets live there; a fresh clone has none)";
    }
}

public sealed class HumanFactAttribute : FactAttribute
{
    public HumanFactAttribute()
    {
        if (FaceDistill.Faces.Zoo.HumanZoo.Verify().Count > 0)
            Skip = "human's models are not installed (run `facedistill models install`)";
    }
}
