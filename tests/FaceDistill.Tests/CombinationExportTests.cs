using FaceDistill.Data;
using FaceDistill.Export;
using FaceDistill.Models;
using FaceDistill.Models.Heads;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;
using DenseTensorF = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace FaceDistill.Tests;

public class CombinationExportTests
{
    private static FaceModel Settled(Backbone b, int size)
    {
        var m = new FaceModel(b, new SoftmaxHead(b.EmbeddingSize, 3));
        OnnxExportTests.Settle(m, size);
        return m;
    }

    private static float Cosine(float[] a, float[] b) => (float)FaceDistill.Evaluation.Embedder.Cosine(a, b);

    [Fact]
    public void TheCombinedGraphScoresAPairAsTheMeanOfTheStudentsCosines()
    {
        manual_seed(3);
        using var big = Settled(new IResNet(18, 32, 16, widthMultiplier: 0.25, output: "gdc"), 32);
        using var small = Settled(Backbones.Create("mobilefacenet", 16, 8, width: 0.25), 16);
        var path = Path.Combine(TestUtil.TempDir(), "both.onnx");
        var r = CombinationOnnxExport.Export([big, small], path);
        Assert.True(r.MaxDifference < 1e-4, $"{r.MaxDifference}");
        Assert.Equal(32, r.InputSize);
        Assert.Equal([("embedding", 24L)], r.Outputs);

        // ONNX Runtime on a new batch of 5 (another batch size than the check's): each pair's cosine is the mean of
        // the two students' cosines, the small student reading the input resized to 16 px
        manual_seed(11);
        using var x = rand(5, 3, 32, 32) * 2 - 1;
        using var session = new InferenceSession(path);
        var input = new DenseTensorF(x.data<float>().ToArray(), [5, 3, 32, 32]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        var e = results.First().AsEnumerable<float>().ToArray();
        Assert.Equal(5 * 24, e.Length);
        float[][] Rows(Tensor t) =>
            Enumerable.Range(0, (int)t.shape[0]).Select(i => t[i].data<float>().ToArray()).ToArray();
        using var small16 = nn.functional.interpolate(
            x,
            size: [16, 16],
            mode: InterpolationMode.Bilinear,
            align_corners: false
        );
        float[][] bigRows,
            smallRows;
        using (no_grad())
        {
            using var eb = big.Backbone.call(x);
            using var es = small.Backbone.call(small16);
            bigRows = Rows(eb);
            smallRows = Rows(es);
        }
        for (int a = 0; a < 5; a++)
        for (int b = a + 1; b < 5; b++)
        {
            float combined = Cosine(e[(a * 24)..(a * 24 + 24)], e[(b * 24)..(b * 24 + 24)]);
            float mean = (Cosine(bigRows[a], bigRows[b]) + Cosine(smallRows[a], smallRows[b])) / 2;
            Assert.True(Math.Abs(combined - mean) < 1e-4, $"pair {a},{b}: {combined} vs {mean}");
        }
        // and the output is unit length, as a single student's normalised embedding
        double norm = Math.Sqrt(e[..24].Sum(v => (double)v * v));
        Assert.True(Math.Abs(norm - 1) < 1e-5, $"{norm}");
    }

    /// <summary>The graph resizes its input as the evaluation resamples an aligned crop for a smaller student: the
    /// combination exported from a 112-px and a 96-px student reads the 112-px crop and scores as the students did
    /// on their own inputs.</summary>
    [Fact]
    public void TheInGraphResizeIsTheEvaluationsResampling()
    {
        var rng = new Random(4);
        var px = new byte[40 * 40 * 3];
        rng.NextBytes(px);
        var img = new RgbImage(40, 40, px);
        var full = new float[3 * 40 * 40];
        var direct = new float[3 * 28 * 28];
        Augment.ToTensorData(img, 40, 1.0, AugmentOptions.None, null, full);
        Augment.ToTensorData(img, 28, 1.0, AugmentOptions.None, null, direct);
        using var t = tensor(full, [1, 3, 40, 40]);
        using var resized = nn.functional.interpolate(
            t,
            size: [28, 28],
            mode: InterpolationMode.Bilinear,
            align_corners: false
        );
        var got = resized.data<float>().ToArray();
        Assert.Equal(direct.Length, got.Length);
        double worst = direct.Zip(got, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst < 1e-5, $"{worst}");
    }

    [Fact]
    public void TheCliExportsTwoRunsAsOneCalibratedGraphAndRefusesACheckpointForSeveral()
    {
        var runs = TestUtil.TempDir();
        string a = TestUtil.TrainTiny(runs, "a", 32),
            b = TestUtil.TrainTiny(runs, "b", 16),
            onnx = Path.Combine(runs, "ab.onnx");
        var (code, output, err) = CliHarness.Run("export", "--run", a, "--run", b, "--out", onnx);
        Assert.True(code == 0, err);
        Assert.Contains("embedding [N, 64]", output);
        Assert.Contains("input 32×32", output);
        // calibrated on the first run's pairs: the threshold goes into the file, where serve reads it
        (code, output, err) = CliHarness.Run("export", "--run", a, "--run", b, "--out", onnx, "--force", "--calibrate");
        Assert.True(code == 0, err);
        Assert.Contains("calibrated threshold (in the file): cos > ", output);
        using (var session = new InferenceSession(onnx))
        {
            var meta = session.ModelMetadata.CustomMetadataMap;
            var cal = FaceDistill.Evaluation.Calibration.FromMetadata(meta, onnx);
            Assert.NotNull(cal);
            Assert.InRange(cal!.Threshold, -1, 1);
            Assert.Contains("the combination on", cal.Source);
            Assert.Equal("a+b", meta["facedistill.run"]);
        }
        (code, _, err) = CliHarness.Run("export", "--run", a, "--out", onnx, "--force", "--calibrate");
        Assert.Equal(2, code);
        Assert.Contains("--calibrate is for a combination", err);
        (code, _, err) = CliHarness.Run("export", "--run", a, "--run", b, "--out", onnx, "--force", "--checkpoint", a);
        Assert.Equal(2, code);
        Assert.Contains("--checkpoint", err);
        Assert.DoesNotContain("\n   at ", err);
        (code, _, err) = CliHarness.Run(
            "export",
            "--run",
            a,
            "--run",
            Path.Combine(runs, "nope"),
            "--out",
            Path.Combine(runs, "none", "n.onnx")
        );
        Assert.Equal(2, code);
        Assert.Contains("not a FaceDistill run directory", err);
        Assert.False(Directory.Exists(Path.Combine(runs, "none")));
    }
}
