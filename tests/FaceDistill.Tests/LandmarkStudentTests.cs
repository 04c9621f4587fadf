using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Distillation;
using FaceDistill.Faces;
using FaceDistill.Faces.Zoo;
using FaceDistill.Runs;
using Xunit;
using static TorchSharp.torch;

namespace FaceDistill.Tests;

/// <summary>The wing loss against its equation, on both branches.</summary>
public class WingLossTests
{
    [Fact]
    public void SmallErrorsFollowTheLogCurveAndLargeOnesTheLine()
    {
        const double w = 10,
            eps = 2;
        double c = w - w * Math.Log(1 + w / eps);
        using var pred = tensor(new float[] { 1f, -4f, 25f, 0f });
        using var target = zeros(4);
        double expected = (w * Math.Log(1 + 1 / eps) + w * Math.Log(1 + 4 / eps) + (25 - c) + 0) / 4;
        using var loss = WingLoss.Compute(pred, target, w, eps);
        Assert.Equal(expected, loss.item<float>(), 4);
    }

    [Fact]
    public void TheTwoBranchesMeetAtW()
    {
        using var a = WingLoss.Compute(tensor(new[] { 9.9999f }), zeros(1));
        using var b = WingLoss.Compute(tensor(new[] { 10.0001f }), zeros(1));
        Assert.Equal(a.item<float>(), b.item<float>(), 3);
    }
}

/// <summary>Which alignment points are trusted, and the four-point template.</summary>
public class FacePlausibilityTests
{
    private static readonly FaceBox Box = new(0, 0, 112, 112);

    [Fact]
    public void TheTemplateIsAPlausibleFaceInItsOwnSquare()
    {
        Assert.True(FacePlausibility.Plausible(FaceAligner.ArcFaceTemplate, Box));
        Assert.True(FacePlausibility.Plausible(FaceAligner.ArcFaceTemplate.Take(3).Append(new(56, 92)).ToArray(), Box));
    }

    [Fact]
    public void CollapsedEyesAFaceUpsideDownAndPointsFarOutsideTheBoxAreNot()
    {
        var t = FaceAligner.ArcFaceTemplate;
        Assert.False(FacePlausibility.Plausible([t[0], new(t[0].X + 3, t[0].Y), t[2], t[3], t[4]], Box));
        var flipped = t.Select(p => new Point2(p.X, 112 - p.Y)).ToArray();
        Assert.False(FacePlausibility.Plausible(flipped, Box));
        Assert.False(FacePlausibility.Plausible(t.Select(p => new Point2(p.X + 200, p.Y)).ToArray(), Box));
        Assert.False(FacePlausibility.Plausible([t[0], t[1], t[2], new(double.NaN, 0)], Box));
    }

    [Fact]
    public void BoxPointsAlignTheBoxOntoTheTemplate()
    {
        var box = new FaceBox(40, 30, 80, 100);
        var points = FacePlausibility.BoxPoints(box);
        Assert.True(FacePlausibility.Plausible(points, box));
        var (a, b, _, _) = FaceAligner.ToTemplate(points, 112);
        Assert.Equal(112.0 / 100, a, 6);
        Assert.Equal(0, b, 6);
    }

    [Fact]
    public void FourPointsWithTheMouthCentreMapOntoTheTemplateExactly()
    {
        var t = FaceAligner.ArcFaceTemplate;
        Point2[] four = [t[0], t[1], t[2], new((t[3].X + t[4].X) / 2, (t[3].Y + t[4].Y) / 2)];
        var (a, b, tx, ty) = FaceAligner.ToTemplate(four.Select(p => new Point2(2 * p.X + 5, 2 * p.Y - 3)).ToArray());
        Assert.Equal(0.5, a, 9);
        Assert.Equal(0, b, 9);
        Assert.Equal(-2.5, tx, 6);
        Assert.Equal(1.5, ty, 6);
        Assert.Throws<ArgumentException>(() => FaceAligner.ToTemplate(four.Take(3).ToArray()));
    }
}

/// <summary>The landmark student: its crop geometry, its files, and its distillation.</summary>
public class LandmarkStudentTests
{
    [Fact]
    public void OutputsMapBackThroughTheInverseOfTheInputTransform()
    {
        using var student = new LandmarkStudent(new LandmarkStudentInfo(64, 1.4, "blazeface", "test"));
        var t = student.InputTransform(100, 80, 70, roll: 0.3);
        var p = new Point2(93.5, 71.25);
        float fx = (float)((t.A * p.X - t.B * p.Y + t.Tx) / 64),
            fy = (float)((t.B * p.X + t.A * p.Y + t.Ty) / 64);
        var fc = new float[136];
        fc[0] = fx;
        fc[1] = fy;
        var back = LandmarkStudent.ToImage(fc, t, 64)[0];
        Assert.Equal(p.X, back.X, 3);
        Assert.Equal(p.Y, back.Y, 3);
        // the crop's centre is the box's centre
        var (cx, cy, side) = student.CropFor(new FaceBox(10, 20, 40, 50));
        Assert.Equal((30.0, 45.0, 70.0), (cx, cy, side));
    }

    [Fact]
    public void ASavedStudentLoadsToTheSameOutputsAndABrokenFolderIsAOneLineError()
    {
        var dir = TestUtil.TempDir();
        var image = TestUtil.Faces(1, 1, 96, 3).Image(0);
        using var student = new LandmarkStudent(new LandmarkStudentInfo(32, 1.4, "blazeface", "test"));
        student.Save(dir);
        using var loaded = LandmarkStudent.Load(dir);
        var box = new FaceBox(20, 20, 56, 56);
        var a = student.Locate(image, [box])[0].Points;
        var b = loaded.Locate(image, [box])[0].Points;
        Assert.Equal(a, b);
        File.WriteAllText(Path.Combine(dir, LandmarkStudent.InfoFile), "{ not json");
        var e = Assert.Throws<FaceDistill.Core.FaceDistillException>(() => LandmarkStudent.Load(dir));
        Assert.Contains(LandmarkStudent.InfoFile, e.Message);
        var empty = TestUtil.TempDir();
        Assert.Contains(
            "not a landmark student",
            Assert.Throws<FaceDistill.Core.FaceDistillException>(() => LandmarkStudent.Load(empty)).Message
        );
    }

    [Fact]
    public void TheMirrorOfThe68PointsIsAnInvolutionThatSwapsTheEyes()
    {
        var f = LandmarkDistillation.FlipIndex;
        Assert.All(Enumerable.Range(0, 68), i => Assert.Equal(i, f[f[i]]));
        Assert.Equal(45, f[36]);
        Assert.Equal(16, f[0]);
        Assert.Equal(30, f[30]);
        Assert.Equal(54, f[48]);
        Assert.Equal(8, f[8]);
    }

    /// <summary><c>align --landmark-student</c> aligns from the student's points; asking for BlazeFace's keypoints
    /// beside it is a one-line error.</summary>
    [FrontEndFact]
    public void AlignWithALandmarkStudentUsesItsPoints()
    {
        var root = TestUtil.TempDir();
        var photos = Directory.CreateDirectory(Path.Combine(root, "photos")).FullName;
        File.Copy(ModelZoo.DemoImages()[1], Path.Combine(photos, "face.jpg"));
        var dir = Path.Combine(root, "student");
        using (var student = new LandmarkStudent(new LandmarkStudentInfo(32, 1.4, "blazeface", "test")))
            student.Save(dir);
        var (code, output, err) = CliHarness.Run(
            "align",
            photos,
            Path.Combine(root, "a"),
            "--landmark-student",
            dir,
            "-q"
        );
        Assert.True(code == 0, err);
        Assert.Contains("aligned 1 of 1", output);
        var (bad, _, badErr) = CliHarness.Run(
            "align",
            photos,
            Path.Combine(root, "b"),
            "--landmark-student",
            dir,
            "--align-from",
            "keypoints",
            "-q"
        );
        Assert.Equal(2, bad);
        Assert.Contains("drop --align-from keypoints", badErr);
    }

    /// <summary>Three identity folders of the zoo's demo photos with face-api's 68 points: distillation runs, learns
    /// (the loss falls), refuses to overwrite, and a run resumed from its last checkpoint continues where it
    /// stopped.</summary>
    [FrontEndFact]
    public void DistillationLearnsRefusesToOverwriteAndResumes()
    {
        var folder = TestUtil.TempDir();
        var rows = new List<string> { LandmarkCsv.Header };
        using (var zoo = new FaceAnalyzer { Detector = FaceDetectorKind.Auto })
        {
            var demo = ModelZoo.DemoImages();
            for (int i = 0; i < 6; i++)
            {
                var image = ImageCodec.Load(demo[i]);
                var found = zoo.Locate(image, zoo.Detect(image)).MaxBy(f => f.Detection.Score);
                Assert.NotNull(found.Landmarks);
                var rel = $"id{i % 3}/photo{i}.jpg";
                File.Copy(
                    demo[i],
                    Path.Combine(
                        Directory.CreateDirectory(Path.Combine(folder, $"id{i % 3}")).FullName,
                        $"photo{i}.jpg"
                    )
                );
                rows.Add(LandmarkCsv.Row(rel, found.Landmarks));
            }
        }
        File.WriteAllText(Path.Combine(folder, "landmarks.csv"), string.Join('\n', rows) + "\n");
        LandmarkDistillOptions Options(string name, bool resume = false) =>
            new(
                folder,
                Path.Combine(folder, "..", Path.GetFileName(folder) + name),
                Epochs: 10,
                BatchSize: 2,
                LearningRate: 5e-3,
                InputSize: 32,
                HeldOutEvery: 3,
                Resume: resume
            );

        var full = LandmarkDistillation.Run(Options("-a"));
        Assert.Equal(10, full.Epochs.Count);
        double first = full.Epochs.Take(3).Average(e => e.Loss),
            last = full.Epochs.TakeLast(3).Average(e => e.Loss);
        Assert.True(last < 0.9 * first, $"{first} → {last}");
        Assert.Contains(
            "choose another --out",
            Assert.Throws<FaceDistill.Core.FaceDistillException>(() => LandmarkDistillation.Run(Options("-a"))).Message
        );

        // a second run killed after its ninth epoch: only checkpoints up to it remain
        var b = Options("-b");
        LandmarkDistillation.Run(b);
        var ckpt = Path.Combine(b.Out, "checkpoints");
        File.Delete(Path.Combine(b.Out, LandmarkStudent.WeightsFile));
        File.Delete(Path.Combine(ckpt, "latest"));
        Directory.Delete(Directory.GetDirectories(ckpt, "step-*").Max()!, recursive: true);
        Assert.Contains(
            "--resume",
            Assert.Throws<FaceDistill.Core.FaceDistillException>(() => LandmarkDistillation.Run(b)).Message
        );
        var resumed = LandmarkDistillation.Run(Options("-b", resume: true));
        // the epochs before the resume are the same numbers; the one after it matches to 1e-4 (not bit for bit)
        Assert.Equal(full.Epochs.Take(9).Select(e => e.Loss), resumed.Epochs.Take(9).Select(e => e.Loss));
        Assert.Equal(1, resumed.Epochs[^1].Loss / full.Epochs[^1].Loss, 4);
        Assert.True(File.Exists(Path.Combine(b.Out, LandmarkStudent.WeightsFile)));
    }
}

/// <summary>The student's second look: the box placed from its own points.</summary>
public class BoxFromPointsTests
{
    [Fact]
    public void AFittedBoxComesBackFromThePointsItWasFittedOn()
    {
        var template = FaceAligner.ArcFaceTemplate;
        // 68 points: the template's five spread over the index range, the rest at the face's centre
        FaceLandmarks Face(double scale, double dx, double dy)
        {
            var pts = Enumerable.Range(0, 68).Select(_ => new Point2(56 * scale + dx, 72 * scale + dy)).ToArray();
            foreach (var i in new[] { 36, 37, 38, 39, 40, 41 })
                pts[i] = new Point2(template[0].X * scale + dx, template[0].Y * scale + dy);
            foreach (var i in new[] { 42, 43, 44, 45, 46, 47 })
                pts[i] = new Point2(template[1].X * scale + dx, template[1].Y * scale + dy);
            return new FaceLandmarks(pts);
        }
        var faces = new[] { (1.0, 0.0, 0.0), (2.0, 30.0, -5.0), (0.5, 7.0, 9.0) }
            .Select(f =>
                (
                    new FaceBox(f.Item2 + 10 * f.Item1, f.Item3 + 20 * f.Item1, 90 * f.Item1, 90 * f.Item1),
                    Face(f.Item1, f.Item2, f.Item3)
                )
            )
            .ToList();
        var fit = BoxFromPoints.Fit(faces);
        foreach (var (box, points) in faces)
        {
            var back = fit.For(points);
            Assert.Equal(box.X, back.X, 6);
            Assert.Equal(box.Y, back.Y, 6);
            Assert.Equal(box.Width, back.Width, 6);
        }
    }
}

/// <summary>The Fréchet distance of the label-free mask gap.</summary>
public class MaskDomainGapTests
{
    private static float[][] Gaussian(int n, int d, double mean, double sd, int seed)
    {
        var rng = new Random(seed);
        return Enumerable
            .Range(0, n)
            .Select(_ => Enumerable.Range(0, d).Select(_ => (float)(mean + sd * rng.NextGaussian())).ToArray())
            .ToArray();
    }

    [Fact]
    public void TheDistanceIsZeroForOneSetAndGrowsWithTheMeanAndTheSpread()
    {
        var a = Gaussian(4000, 4, 0, 1, 1);
        Assert.Equal(0, MaskDomainGap.Frechet(a, a), 6);
        // N(0, I) against N(1, I) in 4 dimensions: ‖Δμ‖² = 4; against N(0, 4I): Tr(I + 4I − 2·2I) = 4
        Assert.Equal(4, MaskDomainGap.Frechet(a, Gaussian(4000, 4, 1, 1, 2)), 0);
        Assert.Equal(4, MaskDomainGap.Frechet(a, Gaussian(4000, 4, 0, 2, 3)), 0);
        Assert.Throws<FaceDistill.Core.FaceDistillException>(() => MaskDomainGap.Frechet([a[0]], a));
    }
}

/// <summary>The mask gap end to end: "real" masked crops that are in fact drawn with one occluder are closest to that
/// occluder.</summary>
public class MaskGapEndToEndTests
{
    [FrontEndFact]
    public void TheOccluderThatMadeTheRealSetIsTheClosestToIt()
    {
        var root = TestUtil.TempDir();
        var clean = Path.Combine(root, "clean");
        var (c1, _, e1) = CliHarness.Run("synth", clean, "--identities", "6", "--images", "8", "--size", "112", "-q");
        Assert.True(c1 == 0, e1);
        var real = Path.Combine(root, "real");
        var (c2, _, e2) = CliHarness.Run(
            "occlude",
            clean,
            "--occluder",
            "mask:varied",
            "--out",
            real,
            "--seed",
            "9",
            "-q"
        );
        Assert.True(c2 == 0, e2);
        var plot = Path.Combine(root, "gap.png");
        var report = MaskDomainGap.Measure(
            new MaskGapOptions(real, clean, ["zoo:mobileface"], ["mask:varied", "vr"], Limit: 48) { Plot = plot }
        );
        double Of(string o) => report.Rows.Single(r => r.Occluder == o).OfClean;
        Assert.True(
            Of("mask:varied") < Of("none") && Of("mask:varied") < Of("vr"),
            string.Join(", ", report.Rows.Select(r => $"{r.Occluder} {r.Frechet:F3}"))
        );
        Assert.Equal(1, Of("none"), 9);
        Assert.True(File.Exists(plot));
        Assert.Contains(
            "--plot",
            Assert
                .Throws<FaceDistillException>(() =>
                    MaskDomainGap.Measure(
                        new MaskGapOptions(real, clean, ["zoo:mobileface"], ["vr"], Limit: 48)
                        {
                            Plot = Path.Combine(root, "x.jpg"),
                        }
                    )
                )
                .Message
        );
    }
}
