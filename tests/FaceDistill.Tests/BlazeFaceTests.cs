using FaceDistill.Data;
using FaceDistill.Faces;
using FaceDistill.Faces.Zoo;

namespace FaceDistill.Tests;

/// <summary>human's BlazeFace: the import against the JavaScript original, the anchors and the decoding as human's
/// <c>blazeface.ts</c> defines them, and faces found where they are.</summary>
public class BlazeFaceTests
{
    [Fact]
    public void TheAnchorsAreHumansTwoGridsOf896Centres()
    {
        var a = BlazeFace.BuildAnchors(256);
        Assert.Equal(2 * 896, a.Length);
        Assert.Equal((8f, 8f), (a[0], a[1])); // stride 16, cell (0, 0), two anchors
        Assert.Equal((8f, 8f), (a[2], a[3]));
        Assert.Equal((24f, 8f), (a[4], a[5]));
        Assert.Equal((16f, 16f), (a[2 * 512], a[2 * 512 + 1])); // stride 32, cell (0, 0), six anchors
        Assert.Equal((240f, 240f), (a[^2], a[^1]));
    }

    [Fact]
    public void DecodingPlacesTheBoxAndKeypointsAroundTheAnchorInPhotoPixels()
    {
        var rows = new float[896 * 17];
        Array.Fill(rows, 0f);
        for (int k = 0; k < 896; k++)
            rows[k * 17] = -10; // every anchor unlikely…
        int best = 512 + 8 * 6 * 3 + 6 * 4; // …but one: stride 32, cell (x 4, y 3) → anchor (144, 112)
        rows[best * 17] = 3; // σ(3) = 0.9526
        (rows[best * 17 + 1], rows[best * 17 + 2], rows[best * 17 + 3], rows[best * 17 + 4]) = (4, -2, 64, 80);
        (rows[best * 17 + 5], rows[best * 17 + 6]) = (-10, -12); // right eye
        var faces = BlazeFace.Decode(rows, 512, 256, minScore: 0.5, maxFaces: 10);
        var f = Assert.Single(faces);
        Assert.Equal(1 / (1 + Math.Exp(-3)), f.Score, 12);
        // centre (148, 110), size 64 × 80 at 256 px; x scaled by 512/256
        Assert.Equal(new FaceBox((148 - 32) * 2.0, 110 - 40, 64 * 2.0, 80), f.Box);
        Assert.Equal(((144 - 10) * 2.0, 112 - 12.0), f.Keypoints[BlazeDetection.RightEye]);
        Assert.Equal((144 * 2.0, 112.0), f.Keypoints[BlazeDetection.NoseTip]);
        Assert.Empty(BlazeFace.Decode(rows, 512, 256, minScore: 0.96, maxFaces: 10));
    }

    [HumanFact]
    public void TheImportMatchesTheJavaScriptOriginalAndFindsTheFaceOfAnAlignedCrop()
    {
        var refs = Path.Combine(RepoPaths.Root(), "scripts", "reference", "human");
        using var net = BlazeFace.Load();
        var diffs = GraphReferenceCheck.Blaze(
            net,
            Path.Combine(refs, "refs_cpu", "blazeface.json"),
            Path.Combine(refs, "crops")
        );
        Assert.Equal(12, diffs.Count); // four outputs, on the pattern and two crops
        Assert.All(diffs, d => Assert.True(d.Passed, $"{d.Case}: {d.MaxDiff:G3} > {d.Tolerance}"));
        // face-api's crop of a demo face: one face, its keypoints in a face's order (right eye left of left eye in
        // the image, eyes above the nose, the nose above the mouth), all inside the box
        var crop = ImageCodec.Load(Path.Combine(refs, "crops", "sample1_face0_aligned.png"));
        var face = Assert.Single(net.Detect(crop, minScore: 0.5, maxFaces: 3));
        var k = face.Keypoints;
        Assert.True(k[BlazeDetection.RightEye].X < k[BlazeDetection.LeftEye].X);
        Assert.True(Math.Max(k[BlazeDetection.RightEye].Y, k[BlazeDetection.LeftEye].Y) < k[BlazeDetection.NoseTip].Y);
        Assert.True(k[BlazeDetection.NoseTip].Y < k[BlazeDetection.MouthCentre].Y);
        foreach (var (x, y) in k.Take(4))
        {
            Assert.InRange(x, face.Box.X, face.Box.Right);
            Assert.InRange(y, face.Box.Y, face.Box.Bottom);
        }
    }
}

/// <summary><c>frontend detect</c>'s survey: every detector over a folder, photos counted once by content.</summary>
public class DetectionSurveyTests
{
    [Fact]
    public void DetectorsAreNamedAsOptionsNameThemAndAnUnknownOneIsAnError()
    {
        Assert.Equal(FaceDetectorKind.BlazeFace, FaceDetectors.Parse("blazeface"));
        Assert.Equal(FaceDetectorKind.Tiny, FaceDetectors.Parse("tiny"));
        var e = Assert.Throws<FaceDistill.Core.FaceDistillException>(() => FaceDetectors.Parse("yolo", "--detector"));
        Assert.Equal("--detector: 'yolo' is not one of ssd, tiny, blazeface, auto", e.Message);
        Assert.Equal(FaceDetectorKind.Auto, FaceDetectors.Parse("auto"));
    }

    [FrontEndFact]
    public void EveryDetectorFindsTheFacesOfTheDemoPhotosAndACopyCountsOnce()
    {
        var dir = TestUtil.TempDir();
        var demo = ModelZoo.DemoDir();
        foreach (var f in new[] { "sample1.jpg", "sample2.jpg" })
            File.Copy(Path.Combine(demo, f), Path.Combine(dir, f));
        File.Copy(Path.Combine(demo, "sample1.jpg"), Path.Combine(dir, "copy-of-sample1.jpg"));
        var grid = Path.Combine(TestUtil.TempDir(), "out", "grid.png");
        var rates = DetectionSurvey.Run(
            dir,
            [FaceDetectorKind.Ssd, FaceDetectorKind.Tiny, FaceDetectorKind.BlazeFace],
            0.5,
            grid
        );
        Assert.Equal(["ssd", "tiny", "blazeface", "any (fallback)"], rates.Select(r => r.Detector));
        Assert.All(rates, r => Assert.Equal((2, 2), (r.Photos, r.WithFace)));
        Assert.True(new FileInfo(grid).Length > 0);
        // a photo without a face is a miss
        var empty = new RgbImage(200, 160);
        ImageCodec.Save(empty, Path.Combine(dir, "blank.png"));
        var blaze = Assert.Single(DetectionSurvey.Run(dir, [FaceDetectorKind.BlazeFace], 0.5));
        Assert.Equal((3, 2), (blaze.Photos, blaze.WithFace));
        Assert.EndsWith("blank.png", Assert.Single(blaze.Missed));
    }
}

/// <summary>A fact that needs every detector: face-api's and human's nets (one `facedistill models install`).</summary>
public sealed class FrontEndFactAttribute : FactAttribute
{
    public FrontEndFactAttribute()
    {
        if (ModelZoo.Verify().Count > 0 || HumanZoo.Verify().Count > 0)
            Skip = "the zoo's detectors are not installed (run `facedistill models install`)";
    }
}

/// <summary><c>frontend landmarks</c>: how far the front end's points move when a photo changes.</summary>
public class LandmarkSurveyTests
{
    [Fact]
    public void TheErrorIsTheMeanPointDistanceOverTheCleanInterocularDistance()
    {
        Point2[] clean = [new(40, 50), new(80, 50), new(60, 70), new(60, 90)];
        Assert.Equal(0, LandmarkSurvey.Nme(clean, clean));
        Point2[] moved = [new(44, 50), new(80, 53), new(60, 70), new(60, 90)]; // 4 px and 3 px, eyes 40 px apart
        Assert.Equal((4 + 3) / 4.0 / 40, LandmarkSurvey.Nme(clean, moved), 12);
    }

    [FrontEndFact]
    public void EveryFrontEndKeepsItsPointsWhenOnlyTheScaleChangesAndADrawnMaskMovesThem()
    {
        var dir = TestUtil.TempDir();
        var clean = Path.Combine(dir, "clean");
        Directory.CreateDirectory(clean);
        File.Copy(Path.Combine(ModelZoo.DemoDir(), "sample2.jpg"), Path.Combine(clean, "sample2.jpg"));
        var scaled = LandmarkSurvey.Run(clean, null, 0.75, 0.5);
        Assert.Equal(["ssd + 68", "tiny + 68", "blazeface + 68", "blazeface keypoints"], scaled.Select(e => e.Source));
        Assert.All(scaled.Where(e => e.Faces > 0), e => Assert.InRange(e.MeanNme, 0, 0.1));
        Assert.Contains(scaled, e => e.Faces == 1 && e.Lost == 0);
        Assert.Contains(
            "no such folder",
            Assert
                .Throws<FaceDistill.Core.FaceDistillException>(() =>
                    LandmarkSurvey.Run(clean, Path.Combine(dir, "nope"), 0.75, 0.5)
                )
                .Message
        );
        Assert.Contains(
            "--min-score",
            Assert
                .Throws<FaceDistill.Core.FaceDistillException>(() => LandmarkSurvey.Run(clean, null, 0.75, 1.5))
                .Message
        );
    }
}

/// <summary>Occluders drawn on whole photos, placed from the faces the chosen detector finds on the clean
/// photo.</summary>
public class PhotoOcclusionTests
{
    [FrontEndFact]
    public void TheChosenDetectorPlacesTheMaskOnEveryFaceItFinds()
    {
        var dir = TestUtil.TempDir();
        var photos = Path.Combine(dir, "photos");
        Directory.CreateDirectory(photos);
        File.Copy(Path.Combine(ModelZoo.DemoDir(), "sample2.jpg"), Path.Combine(photos, "sample2.jpg"));
        ImageCodec.Save(new RgbImage(160, 120), Path.Combine(photos, "blank.png"));
        var outDir = Path.Combine(dir, "masked");
        var report = FolderOcclusion.Detected(
            photos,
            FaceDistill.Faces.Occlusion.Occluder.Parse("mask"),
            outDir,
            seed: 1,
            maxRows: 0,
            sheetRows: [],
            FaceDetectorKind.Auto
        );
        Assert.Equal(1, report.Written); // the blank photo has no face and is not written
        var clean = ImageCodec.Load(Path.Combine(photos, "sample2.jpg"));
        var masked = ImageCodec.Load(Path.Combine(outDir, "sample2.jpg"));
        Assert.Equal((clean.Width, clean.Height), (masked.Width, masked.Height));
        Assert.NotEqual(clean.Pixels, masked.Pixels);
        Assert.False(File.Exists(Path.Combine(outDir, "blank.png")));
    }
}

/// <summary><c>align --align-from keypoints</c>: BlazeFace's four keypoints onto the ArcFace template.</summary>
public class KeypointAlignmentTests
{
    [FrontEndFact]
    public void AFaceAlignedFromBlazeFacesKeypointsHasItsEyesWhereTheTemplatePutsThem()
    {
        var dir = TestUtil.TempDir();
        var photos = Path.Combine(dir, "photos");
        Directory.CreateDirectory(photos);
        File.Copy(Path.Combine(ModelZoo.DemoDir(), "sample2.jpg"), Path.Combine(photos, "face.jpg"));
        using var zoo = new FaceAnalyzer { Detector = FaceDetectorKind.Auto, AlignFromKeypoints = true };
        var outDir = Path.Combine(dir, "aligned");
        var report = new DatasetAligner(zoo).Run(photos, ImageFolder.List(photos), outDir);
        Assert.Equal(1, report.Aligned);
        Assert.Empty(report.Fallback);
        Assert.Empty(report.BoxAligned);
        var crop = ImageCodec.Load(Path.Combine(outDir, "face.png"));
        Assert.Equal((112, 112), (crop.Width, crop.Height));
        // face-api's 68 landmarks, mapped by the keypoints' transform, put the eyes near the template's
        var lm = Assert.Single(LandmarkCsv.Read(Path.Combine(outDir, "landmarks.csv"))).Value;
        Assert.InRange(Math.Abs(lm.LeftEyeCenter.X - FaceAligner.ArcFaceTemplate[0].X), 0, 8);
        Assert.InRange(Math.Abs(lm.RightEyeCenter.X - FaceAligner.ArcFaceTemplate[1].X), 0, 8);
        Assert.InRange(Math.Abs(lm.LeftEyeCenter.Y - FaceAligner.ArcFaceTemplate[0].Y), 0, 8);
    }
}
