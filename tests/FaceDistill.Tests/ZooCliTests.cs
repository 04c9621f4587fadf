using System.Text.Json;
using FaceDistill.Cli;
using FaceDistill.Data;
using FaceDistill.Faces.Zoo;

namespace FaceDistill.Tests;

public class ZooCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliHarness.Run(args);

    private static string Sample(int i) =>
        Path.Combine(TestUtil.Shared()!, "reference", "faceapi", "refs_cpu", "images", $"sample{i}.png");

    [SharedFact]
    public void AnalyzeWritesFacesAsJsonAndDraws()
    {
        if (ModelZoo.Verify().Count > 0)
            return;
        var dir = TestUtil.TempDir();
        var drawn = Path.Combine(dir, "drawn.png");
        // face-api's own pipeline (SSD), whose age the comment below quotes
        var (code, stdout, err) = Run("analyze", Sample(1), "--draw", drawn, "--detector", "ssd", "-q");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(stdout);
        var faces = doc.RootElement.GetProperty("faces");
        Assert.Equal(3, faces.GetArrayLength());
        var f = faces[0];
        Assert.Equal(68, f.GetProperty("landmarks").GetArrayLength());
        Assert.Equal(128, f.GetProperty("descriptor").GetArrayLength());
        Assert.Equal("female", f.GetProperty("gender").GetString());
        Assert.InRange(f.GetProperty("age").GetDouble(), 26.2, 26.3); // face-api: 26.2438
        Assert.Equal(1920, ImageCodec.Load(drawn).Width);
    }

    [ZooFact]
    public void AlignListsImagesWithoutFacesAndUnreadableOnes()
    {
        var dir = TestUtil.TempDir();
        var src = Path.Combine(dir, "in");
        Directory.CreateDirectory(Path.Combine(src, "a"));
        ImageCodec.Save(new RgbImage(64, 64), Path.Combine(src, "a", "blank.png")); // no face
        File.WriteAllBytes(Path.Combine(src, "a", "broken.jpg"), [0xFF, 0xD8, 0xFF, 0x00]); // truncated JPEG
        if (TestUtil.Shared() is { } shared)
            File.Copy(Sample(2), Path.Combine(src, "a", "people.png"));
        var outDir = Path.Combine(dir, "out");
        var (code, stdout, err) = Run("align", src, outDir, "-q");
        Assert.True(code == 0, err);
        Assert.Contains("a/blank.png", File.ReadAllText(Path.Combine(outDir, "no_face.txt")));
        Assert.Contains("broken.jpg", File.ReadAllText(Path.Combine(outDir, "unreadable.txt")));
        var csv = LandmarkCsv.Read(Path.Combine(outDir, "landmarks.csv"));
        if (TestUtil.Shared() is not null)
        {
            var lm = csv["a/people.png"];
            var crop = ImageCodec.Load(Path.Combine(outDir, "a", "people.png"));
            Assert.Equal((112, 112), (crop.Width, crop.Height));
            // the aligned eyes land on the ArcFace template (least squares over 5 points: within a few pixels)
            Assert.InRange(lm.LeftEyeCenter.X, 34, 43);
            Assert.InRange(lm.RightEyeCenter.X, 69, 78);
            Assert.InRange(lm.LeftEyeCenter.Y, 47, 56);
        }
        // the output folder is never overwritten
        Assert.Equal(2, Run("align", src, outDir, "-q").Code);
    }

    [SharedFact]
    public void AlignFindsFacesThatFillTheFrameWithABorder()
    {
        if (ModelZoo.Verify().Count > 0)
            return;
        // glint6's crops come aligned to the ArcFace template already: the tiny detector misses most of them (the
        // face fills the frame); with a border it finds them, and the crop it writes is (nearly) the one it was given
        var dir = TestUtil.TempDir();
        var src = Path.Combine(dir, "in");
        Directory.CreateDirectory(src);
        var glint = Path.Combine(TestUtil.Shared()!, "datasets", "glint6", "Hugh_Laurie");
        foreach (var f in Directory.GetFiles(glint, "*.jpg").Order().Take(12))
            File.Copy(f, Path.Combine(src, Path.GetFileName(f)));
        string Align(string name, params string[] extra)
        {
            var outDir = Path.Combine(dir, name);
            var (code, _, err) = Run(["align", src, outDir, "--detector", "tiny", "-q", .. extra]);
            Assert.True(code == 0, err);
            return outDir;
        }
        var plain = Align("plain", "--fallback-box", "0.8");
        var padded = Align("padded", "--fallback-box", "0.8", "--pad", "0.6");
        string[] Lines(string d, string f) =>
            File.Exists(Path.Combine(d, f)) ? File.ReadAllLines(Path.Combine(d, f)) : [];
        Assert.True(Lines(plain, "fallback.txt").Length >= 6, "the detector was expected to miss most tight crops");
        var found = Lines(padded, "padded.txt");
        Assert.True(found.Length > Lines(padded, "fallback.txt").Length, "a border found fewer faces than it missed");
        Assert.Empty(Lines(plain, "padded.txt"));
        double Drift(string d, string rel)
        {
            var a = ImageCodec.Load(Path.Combine(d, Path.ChangeExtension(rel, ".png")));
            var b = ImageCodec.Load(Path.Combine(src, rel));
            return a.Pixels.Zip(b.Pixels, (x, y) => Math.Abs(x - y)).Average();
        }
        double withBorder = found.Average(r => Drift(padded, r)),
            centreBox = found.Average(r => Drift(plain, r));
        Assert.True(withBorder < centreBox, $"mean |Δ| {withBorder:F1} with a border, {centreBox:F1} from the box");
    }

    [Fact]
    public void PadEdgeRepeatsTheEdgePixels()
    {
        var img = new RgbImage(2, 1, [1, 2, 3, 4, 5, 6]);
        var big = img.PadEdge(2);
        Assert.Equal((6, 5), (big.Width, big.Height));
        Assert.Equal((1, 2, 3), (big[0, 0, 0], big[0, 0, 1], big[0, 0, 2]));
        Assert.Equal((4, 5, 6), (big[5, 4, 0], big[5, 4, 1], big[5, 4, 2]));
        Assert.Equal((1, 4), (big[2, 2, 0], big[3, 2, 0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => img.PadEdge(-1));
    }

    [Fact]
    public void AnalyzeOnAMissingPathIsOneLine()
    {
        var (code, _, err) = Run("analyze", "/nonexistent/photo.jpg");
        Assert.Equal(2, code);
        Assert.Equal("error: /nonexistent/photo.jpg: no such image or folder", err.Trim());
    }
}

public class TeacherBaselineViewTests
{
    [ZooFact]
    public void TheTeachersAreMeasuredOnTheViewTheyAreGiven()
    {
        using var zoo = new FaceDistill.Faces.FaceAnalyzer();
        var faces = TestUtil.Faces(4, 4, 112, 3);
        var clean = FaceDistill.Evaluation.TeacherBaselines.AgeGender(zoo, faces);
        var again = FaceDistill.Evaluation.TeacherBaselines.AgeGender(zoo, faces, new(View: FaceViews.Parse("clean")));
        var masked = FaceDistill.Evaluation.TeacherBaselines.AgeGender(
            zoo,
            faces,
            new(View: FaceViews.Parse("occluded:mask"))
        );
        Assert.Equal(clean.Age.Metrics["mae"], again.Age.Metrics["mae"], 6);
        // a mask over the lower half changes what the age net sees: its predictions (hence the MAE) move
        Assert.NotEqual(clean.Age.Metrics["mae"], masked.Age.Metrics["mae"], 3);
    }

    [ZooFact]
    public void BaselineTakesAViewAndComputesTheLandmarksOfCrops()
    {
        var dir = TestUtil.TempDir();
        var faces = TestUtil.Faces(2, 3, 64, 4);
        for (int i = 0; i < faces.Count; i++)
        {
            var cls = Path.Combine(dir, "test", i % 2 == 0 ? "happy" : "sad");
            Directory.CreateDirectory(cls);
            ImageCodec.Save(faces.Image(i), Path.Combine(cls, $"{i}.png"));
        }
        var (code, stdout, err) = CliHarness.Run("models", "baseline", "fer2013", dir, "--view", "occluded:vr", "-q");
        Assert.True(code == 0, err);
        Assert.Contains("view: occluded:vr", stdout);
        Assert.Contains("acc=", stdout);
        (code, _, err) = CliHarness.Run("models", "baseline", "fer2013", dir, "--view", "occluded:hat", "-q");
        Assert.Equal(2, code);
        Assert.Contains("hat", err);
        // a folder whose class is not an expression: one line naming the folder
        var other = Path.Combine(dir, "other", "bored");
        Directory.CreateDirectory(other);
        ImageCodec.Save(faces.Image(0), Path.Combine(other, "0.png"));
        (code, _, err) = CliHarness.Run("models", "baseline", "fer2013", Path.Combine(dir, "other"), "-q");
        Assert.Equal(2, code);
        Assert.StartsWith(
            $"error: {Path.Combine(dir, "other")}: folder 'bored' is not an expression class",
            err.Trim()
        );
        Assert.Single(err.Trim().Split('\n'));
    }
}
