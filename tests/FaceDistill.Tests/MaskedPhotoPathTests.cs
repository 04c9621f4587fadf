using System.Globalization;
using FaceDistill.Data;
using FaceDistill.Faces;
using Xunit;

namespace FaceDistill.Tests;

/// <summary>The raw-photo masked protocol end to end on synthetic photos: a mask drawn on the whole photo from its
/// clean landmarks, then the default front end (auto detector, alignment from BlazeFace's keypoints) on the masked
/// photo alone, then verification with the occluded side read from the masked alignment.</summary>
public class MaskedPhotoPathTests
{
    [FrontEndFact]
    public void AMaskedPhotoGoesThroughDetectionAlignmentAndVerification()
    {
        var root = TestUtil.TempDir();
        var photos = Path.Combine(root, "photos");
        var faces = TestUtil.Faces(4, 3, 96, 5);
        var rows = new List<string> { LandmarkCsv.Header };
        for (int i = 0; i < faces.Count; i++)
        {
            // a 96-px face in the middle of a 192-px photo (edge pixels repeated), its landmarks moved with it
            var (image, lm) = faces.Load(i);
            var photo = image.PadEdge(48);
            var rel = $"P{i / 3}/P{i / 3}_{i % 3 + 1:D4}.png";
            ImageCodec.Save(photo, Path.Combine(photos, rel));
            var points = Enumerable.Range(0, 68).Select(k => new Point2(lm![2 * k] + 48, lm[2 * k + 1] + 48)).ToArray();
            rows.Add(LandmarkCsv.Row(rel, new FaceLandmarks(points)));
        }
        var csv = Path.Combine(photos, "landmarks.csv");
        File.WriteAllText(csv, string.Join('\n', rows) + "\n");
        var pairs = Path.Combine(root, "pairs.txt");
        File.WriteAllLines(
            pairs,
            ["2 2", "P0 1 2", "P1 1 2", "P0 1 P1 1", "P2 1 P3 1", "P2 1 3", "P3 2 3", "P0 2 P2 2", "P1 3 P3 3"]
        );
        var masked = Path.Combine(root, "masked");
        Ok(CliHarness.Run("occlude", photos, "--landmarks", csv, "--occluder", "mask", "--out", masked, "-q"));
        var clean = Path.Combine(root, "aligned-clean");
        var maskedAligned = Path.Combine(root, "aligned-masked");
        Ok(CliHarness.Run("align", photos, clean, "--fallback-box", "0.5", "-q"));
        Ok(CliHarness.Run("align", masked, maskedAligned, "--fallback-box", "0.5", "-q"));
        // every photo aligned; the default front end finds all but at most one masked face (the centre box takes it)
        Assert.Equal(12, LandmarkCsv.Read(Path.Combine(maskedAligned, "landmarks.csv")).Count);
        var fallback = Path.Combine(maskedAligned, "fallback.txt");
        Assert.True(!File.Exists(fallback) || File.ReadAllLines(fallback).Length <= 1);
        Assert.False(File.Exists(Path.Combine(clean, "fallback.txt")));
        // the default front end on each masked photo puts the true eye centres near the template's
        var errors = new List<double>();
        using (var zoo = new FaceAnalyzer { Detector = FaceDetectorKind.Auto, AlignFromKeypoints = true })
        {
            var truth = LandmarkCsv.Read(csv);
            foreach (var (rel, lm) in truth)
            {
                var photo = ImageCodec.Load(Path.Combine(masked, rel));
                if (zoo.Detect(photo).MaxBy(d => d.Score) is not { } face)
                    continue;
                var located = zoo.Locate(photo, [face])[0].Landmarks;
                var (a, b, tx, ty) = FaceAligner.ToTemplate(zoo.AlignmentPoints(face, located, out _));
                Point2 Map(Point2 p) => new(a * p.X - b * p.Y + tx, b * p.X + a * p.Y + ty);
                errors.Add(
                    Math.Max(
                        Map(lm.LeftEyeCenter).DistanceTo(FaceAligner.ArcFaceTemplate[0]),
                        Map(lm.RightEyeCenter).DistanceTo(FaceAligner.ArcFaceTemplate[1])
                    )
                );
            }
        }
        errors.Sort();
        Assert.True(errors.Count >= 11, $"{errors.Count} of 12 masked photos found");
        // (on these synthetic faces the front end misplaces a few masked ones, by up to an eye distance)
        var shown = string.Join(", ", errors.Select(e => $"{e:F1}"));
        Assert.True(errors[errors.Count / 2] < 8, shown);
        Assert.True(errors.Count(e => e < 10) >= 2 * errors.Count / 3, shown);
        (int Code, string Out, string Err) Eval(string occluded, params string[] more) =>
            CliHarness.Run([
                "eval",
                "--model",
                "zoo:faceres",
                "--pairs",
                pairs,
                "--images",
                clean,
                "--images-occluded",
                occluded,
                "-q",
                .. more,
            ]);
        var (code, output, err) = Eval(maskedAligned, "--sides", "one", "--no-flip");
        Assert.True(code == 0, err);
        Assert.Contains("acc", output);
        var (bad, _, badErr) = Eval(Path.Combine(root, "nope"));
        Assert.Equal(2, bad);
        Assert.Contains("nope", badErr);
    }

    private static void Ok((int Code, string Out, string Err) r) => Assert.True(r.Code == 0, r.Err + r.Out);
}
