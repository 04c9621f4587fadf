using System.Text.Json;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Faces;
using FaceDistill.Faces.Zoo;
using FaceDistill.Graphs.Tfjs;

namespace FaceDistill.Tests;

/// <summary>The face-api ports against the original's outputs. The pattern fixtures (copied from
/// ../shared/reference/faceapi) need only the installed weights; the full reference check needs ../shared.</summary>
public class ZooPortTests
{
    private static readonly JsonElement Refs = JsonDocument
        .Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "faceapi_pattern_refs.json")))
        .RootElement;

    private static double[] R(string key) =>
        Refs.GetProperty(key).EnumerateArray().Select(e => e.GetDouble()).ToArray();

    private static double[] F(TorchSharp.torch.Tensor t) => t.data<float>().ToArray().Select(v => (double)v).ToArray();

    private static TorchSharp.torch.Tensor Pattern(int size, ZooNormalization n) =>
        NetInput.ToBatch([ReferenceCheck.Pattern(size)], size, n);

    [ZooFact]
    public void RecognitionDescriptorMatchesFaceApi()
    {
        using var net = FaceRecognitionNet.Load();
        using var x = Pattern(150, ZooNormalization.FaceMean);
        using var d = net.Forward(x);
        Assert.Equal([1L, 128], d.shape);
        Assert.True(ReferenceCheck.MaxAbs(F(d), R("recognition_descriptor")) < 1e-4);
    }

    [ZooFact]
    public void LandmarkNetsMatchFaceApi()
    {
        using var x = Pattern(112, ZooNormalization.FaceMean);
        foreach (var (tiny, key) in new[] { (false, "landmark68_raw_fc"), (true, "landmark68tiny_raw_fc") })
        {
            using var net = FaceLandmark68Net.Load(tiny);
            using var fc = net.Forward(x);
            Assert.True(112 * ReferenceCheck.MaxAbs(F(fc), R(key)) < 0.05, key);
        }
    }

    [ZooFact]
    public void ExpressionAndAgeGenderMatchFaceApi()
    {
        using var x = Pattern(112, ZooNormalization.FaceMean);
        using (var net = FaceExpressionNet.Load())
        using (var logits = net.Forward(x))
        using (var p = logits.softmax(1))
            Assert.True(ReferenceCheck.MaxAbs(F(p), R("expression_softmax")) < 1e-4);
        using var ag = AgeGenderNet.Load();
        var (age, gender) = ag.Forward(x);
        using (age)
        using (gender)
        using (var gp = gender.softmax(1))
        {
            Assert.Equal(Refs.GetProperty("age").GetDouble(), age.data<float>()[0], 0.01);
            Assert.True(ReferenceCheck.MaxAbs(F(gp), R("gender_softmax")) < 1e-4);
        }
    }

    [ZooFact]
    public void DetectorsMatchFaceApi()
    {
        using (var tiny = TinyFaceDetector.Load())
        using (var x = Pattern(416, ZooNormalization.TinyDetectorMean))
        using (var raw = tiny.Forward(x))
        using (var nhwc = raw.permute(0, 2, 3, 1).contiguous())
        {
            Assert.Equal([1L, 25, 13, 13], raw.shape);
            Assert.True(ReferenceCheck.MaxAbs(F(nhwc).Take(625).ToArray(), R("tiny_raw_nhwc_first_625")) < 1e-3);
        }
        using var ssd = SsdMobilenetV1.Load();
        using var xs = Pattern(512, ZooNormalization.Ssd);
        var (enc, logits) = ssd.Forward(xs);
        SsdOutput o;
        using (enc)
        using (logits)
            o = ssd.Decode(enc[0].data<float>().ToArray(), logits[0].data<float>().ToArray());
        Assert.Equal(5118, o.Scores.Length);
        var idx = Refs.GetProperty("ssd_top_anchor_indices").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var boxes = Refs.GetProperty("ssd_top_boxes")
            .EnumerateArray()
            .Select(b => b.EnumerateArray().Select(v => v.GetDouble()).ToArray())
            .ToArray();
        Assert.True(ReferenceCheck.MaxAbs(idx.Select(i => o.Scores[i]).ToArray(), R("ssd_top_scores")) < 1e-4);
        for (int k = 0; k < idx.Length; k++)
            Assert.True(512 * ReferenceCheck.MaxAbs(o.Boxes[idx[k]], boxes[k]) < 0.5);
    }

    [ZooFact]
    public void WrongManifestForANetIsAOneLineError()
    {
        var w = TfjsWeights.Load(ModelZoo.Manifest(FaceExpressionNet.ModelName));
        var e = Assert.Throws<FaceDistillException>(() => new AgeGenderNet(w));
        Assert.StartsWith(ModelZoo.Manifest(FaceExpressionNet.ModelName), e.Message);
        // Same trunk, different head: the expression manifest has fc [256,7], the landmark net needs [256,136].
        Assert.Contains(
            "the network expects [256,136]",
            Assert.Throws<FaceDistillException>(() => new FaceLandmark68Net(w, tiny: false)).Message
        );
        using var net = new FaceExpressionNet(w);
        using var bad = TorchSharp.torch.zeros(1, 3, 64, 64);
        Assert.Contains(
            "expected input [N,3,112,112]",
            Assert.Throws<FaceDistillException>(() => net.Forward(bad)).Message
        );
    }

    [SharedFact]
    public void EveryPortMatchesTheReferenceOutputsWithinTolerance()
    {
        if (ModelZoo.Verify().Count > 0)
            return; // covered by ZooFact skips; weights are installed by set-up
        var diffs = ReferenceCheck.Run(Path.Combine(TestUtil.Shared()!, "reference", "faceapi"));
        Assert.True(diffs.Count >= 50, $"only {diffs.Count} checks ran");
        var failed = diffs.Where(d => !d.Passed).Select(d => $"{d.Net} {d.Case}: {d.MaxDiff} > {d.Tolerance}").ToList();
        Assert.True(failed.Count == 0, string.Join("; ", failed));
        // The three shipped PNG demo images go through the whole pipeline with face-api's exact integer crops.
        Assert.Equal(3, diffs.Count(d => d.Case.Contains("integer crops") && d.Note is null && d.MaxDiff == 0));
    }
}

/// <summary>Pieces of the port that need no weights.</summary>
public class ZooOpsTests
{
    [Fact]
    public void TfSamePaddingIsAsymmetricOnStride2()
    {
        Assert.Equal((0L, 1L), TfOps.SamePad(112, 3, 2));
        Assert.Equal((1L, 1L), TfOps.SamePad(112, 3, 1));
        Assert.Equal((0L, 0L), TfOps.SamePad(112, 1, 2));
        Assert.Equal((1L, 1L), TfOps.SamePad(7, 3, 2)); // odd input: out 4, total 2
        Assert.Equal((0L, 1L), TfOps.SamePad(13, 2, 1));
    }

    [Fact]
    public void JsRoundingRoundsHalvesUp()
    {
        Assert.Equal(3, NetInput.JsRound(2.5));
        Assert.Equal(-2, NetInput.JsRound(-2.5));
        Assert.Equal(2, NetInput.JsRound(1.5));
    }

    [Fact]
    public void PadToSquareAndLegacyResizeAreFaceApis()
    {
        // 3 wide, 1 high: centred padding puts round(2/2)=1 row after and 1 before; the square is 3×3.
        var img = new RgbImage(3, 1, [10, 10, 10, 20, 20, 20, 30, 30, 30]);
        var same = NetInput.PadResize(img, 3, centered: true);
        Assert.Equal(0f, same[0]); // row 0 is padding
        Assert.Equal(20f, same[(1 * 3 + 1) * 3]); // row 1 holds the image
        var bottom = NetInput.PadResize(img, 3, centered: false);
        Assert.Equal(10f, bottom[0]); // padding goes after
        // Legacy resize 3 → 2: src = dst·1.5, no half-pixel offset: dst 1 reads 0.5·x[1] + 0.5·x[2].
        var row = new RgbImage(3, 3, Enumerable.Range(0, 27).Select(i => (byte)(i / 3 % 3 * 10 + 10)).ToArray());
        var r = NetInput.PadResize(row, 2, centered: false);
        Assert.Equal(10f, r[0]);
        Assert.Equal(25f, r[3]);
        // Odd difference (4 wide, 1 high → diff 3): round(1.5) = 2 rows after, 1 before.
        var odd = NetInput.PadResize(new RgbImage(4, 1, Enumerable.Repeat((byte)50, 12).ToArray()), 4, centered: true);
        Assert.Equal(0f, odd[0]);
        Assert.Equal(50f, odd[(1 * 4) * 3]);
        Assert.Equal(0f, odd[(2 * 4) * 3]);
    }

    [Fact]
    public void BoxesClipAndFloorLikeFaceApi()
    {
        var c = new FaceBox(-3.7, 10.9, 50.5, 20.2).ClipAndFloor(40, 30);
        Assert.Equal(new CropRect(0, 10, 40, 19), c);
        Assert.Equal(new FaceBox(-1, -2, 12, 24), new FaceBox(0, 0, 10, 20).Pad(2, 4));
        Assert.Equal(1.0 / 3, FaceBox.IoU(new FaceBox(0, 0, 2, 1), new FaceBox(1, 0, 2, 1)), 12);
    }

    [Fact]
    public void NonMaxSuppressionKeepsTheBestOfOverlaps()
    {
        var boxes = new[] { new FaceBox(0, 0, 10, 10), new FaceBox(1, 1, 10, 10), new FaceBox(50, 50, 10, 10) };
        Assert.Equal([1, 2], NonMaxSuppression.Greedy(boxes, [0.8, 0.9, 0.7], 0.4));
        var corners = boxes.Select(b => new[] { b.Y, b.X, b.Bottom, b.Right }).ToList();
        Assert.Equal([1, 2], NonMaxSuppression.Ssd(corners, [0.8, 0.9, 0.7], 100, 0.5, 0.5));
        Assert.Equal([1], NonMaxSuppression.Ssd(corners, [0.8, 0.9, 0.7], 1, 0.5, 0.5));
        Assert.Equal([1], NonMaxSuppression.Ssd(corners, [0.8, 0.9, 0.7], 100, 0.5, 0.75));
    }

    [Fact]
    public void SimilarityAlignmentRecoversAKnownTransform()
    {
        // dst = s·R(θ)·src + t with s = 0.8, θ = 10°, t = (5, −3)
        double s = 0.8,
            th = 10 * Math.PI / 180,
            a = s * Math.Cos(th),
            b = s * Math.Sin(th);
        var src = FaceAligner.ArcFaceTemplate.Select(p => new Point2(p.X * 2 + 7, p.Y * 2 - 1)).ToArray();
        var dst = src.Select(p => new Point2(a * p.X - b * p.Y + 5, b * p.X + a * p.Y - 3)).ToArray();
        var (ea, eb, tx, ty) = FaceAligner.Similarity(src, dst);
        Assert.Equal(a, ea, 9);
        Assert.Equal(b, eb, 9);
        Assert.Equal(5, tx, 9);
        Assert.Equal(-3, ty, 9);
        // Aligning an image whose five points sit exactly on the template (scaled ×2) gives the template crop.
        var img = new RgbImage(224, 224, Enumerable.Range(0, 224 * 224 * 3).Select(i => (byte)(i / 3 % 224)).ToArray());
        var pts = FaceAligner.ArcFaceTemplate.Select(p => new Point2(p.X * 2, p.Y * 2)).ToArray();
        var crop = FaceAligner.Align(img, pts, 112);
        Assert.Equal(112, crop.Width);
        Assert.Equal(100, crop[50, 60, 0]); // x = 50 maps to source x = 100
    }

    [Fact]
    public void LandmarkPostProcessUndoesThePadding()
    {
        // A 50×100 crop: scale 1.12, w = 56, h = 112, padX = 28. A net output at the square's centre is the crop's
        // centre.
        var fc = Enumerable.Repeat(0.5f, 136).ToArray();
        var rel = FaceLandmarks.RelativeFromNetOutput(fc, 50, 100);
        Assert.Equal(0.5, rel[0].X, 9);
        Assert.Equal(0.5, rel[0].Y, 9);
        fc[0] = 0.25f; // 28 px of padding on the left → x = 0
        Assert.Equal(0, FaceLandmarks.RelativeFromNetOutput(fc, 50, 100)[0].X, 6);
    }

    [Fact]
    public void LandmarkCsvErrorsNameTheFile()
    {
        var dir = TestUtil.TempDir();
        var p = Path.Combine(dir, "lm.csv");
        File.WriteAllText(p, "path,x0\na.png,1\n");
        Assert.Contains(
            "lm.csv: header must have",
            Assert.Throws<FaceDistillException>(() => LandmarkCsv.Read(p)).Message
        );
        var pts = new FaceLandmarks(Enumerable.Range(0, 68).Select(i => new Point2(i, 2 * i)).ToArray());
        File.WriteAllText(
            p,
            LandmarkCsv.Header
                + "\n"
                + LandmarkCsv.Row("a.png", pts)
                + "\n"
                + LandmarkCsv.Row("b.png", pts).Replace(",4.00,", ",x,")
                + "\n"
        );
        Assert.Contains(
            "line 3: landmark 2 is not a number",
            Assert.Throws<FaceDistillException>(() => LandmarkCsv.Read(p)).Message
        );
        File.WriteAllText(p, LandmarkCsv.Header + "\n" + LandmarkCsv.Row("a.png", pts) + "\n");
        Assert.Equal(67, LandmarkCsv.Read(p)["a.png"].Points[67].X);
    }
}
