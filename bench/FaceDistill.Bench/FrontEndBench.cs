using System.Diagnostics;
using System.Globalization;
using FaceDistill.Data;
using FaceDistill.Faces;
using FaceDistill.Faces.Zoo;
using static TorchSharp.torch;

namespace FaceDistill.Bench;

/// <summary>
/// The front end's cost per photo — each stage on its own (the three detectors and the auto chain, face-api's 68
/// landmarks on a box, a landmark student of the shipped architecture, the ArcFace warp) — against the model it feeds:
/// faceres embedding one aligned face at 224 px, in the same process. Median over the zoo's six demo photos (one face
/// each, 300–1,000 px) of repeated passes after a warm-up. Needs the models installed (<c>facedistill models
/// install</c>). <c>--frontend</c> runs only this section.
/// </summary>
public static class FrontEndBench
{
    private static string F(double v, string f = "F1") => v.ToString(f, CultureInfo.InvariantCulture);

    private static double MedianMs(IReadOnlyList<RgbImage> photos, Action<RgbImage> run, int reps)
    {
        foreach (var p in photos)
            run(p);
        var t = new List<double>();
        for (int r = 0; r < reps; r++)
            foreach (var p in photos)
            {
                var sw = Stopwatch.StartNew();
                run(p);
                t.Add(sw.Elapsed.TotalMilliseconds);
            }
        t.Sort();
        return t[t.Count / 2];
    }

    public static IEnumerable<string> Run(int threads, bool quick)
    {
        int reps = quick ? 2 : 5;
        var photos = ModelZoo.DemoImages().Select(ImageCodec.Load).ToList();
        using var zoo = new FaceAnalyzer { Detector = FaceDetectorKind.Auto, AlignFromKeypoints = true };
        zoo.LoadDetector();
        using var faceres = FaceRes.Load();
        using var student = new LandmarkStudent(new LandmarkStudentInfo(64, 1.4, "blazeface", "bench (untrained)"));
        var boxes = photos.Select(p => zoo.Detect(p).MaxBy(d => d.Score)!).ToList();
        var box = photos.Select((p, i) => (p, boxes[i])).ToDictionary(t => t.p, t => t.Item2);
        var aligned = photos
            .Select(p => FaceAligner.Align(p, zoo.Locate(p, [box[p]])[0].Landmarks.FivePoints()))
            .ToList();
        var crop = aligned.Select((a, i) => (photos[i], a)).ToDictionary(t => t.Item1, t => t.a);
        double reference = MedianMs(
            photos,
            p =>
            {
                using var x = FaceRes.Input(crop[p]);
                using var o = faceres.Forward(x);
            },
            reps
        );
        yield return "## The front end's cost per photo";
        yield return "";
        yield return $"Each stage on the zoo's six demo photos, {threads} threads, median of {reps} passes after a "
            + "warm-up, against faceres embedding one aligned face (224 px) in the same process: "
            + $"**{F(reference)} ms**.";
        yield return "";
        yield return "| stage | ms / photo | × faceres embedding |";
        yield return "|---|---:|---:|";
        var stages = new (string Name, Action<RgbImage> Run)[]
        {
            ("detect: ssd (512 px)", p => zoo.Ssd.Detect(p, 0.5)),
            ("detect: tiny (416 px)", p => zoo.Tiny.Detect(p, 416, 0.5)),
            ("detect: blazeface (256 px)", p => zoo.Blaze.Detect(p, 0.5)),
            ("detect: auto (blazeface first)", p => zoo.Detect(p)),
            ("landmarks: face-api 68 on the box", p => zoo.Locate(p, [box[p]])),
            ("landmarks: landmark student (64 px)", p => student.Locate(p, [box[p].Box])),
            (
                "align: 68 points + ArcFace warp to 112 px",
                p => FaceAligner.Align(p, zoo.AlignmentPoints(box[p], zoo.Locate(p, [box[p]])[0].Landmarks, out _))
            ),
        };
        foreach (var (name, run) in stages)
        {
            double ms = MedianMs(photos, run, reps);
            yield return $"| {name} | {F(ms)} | {F(ms / reference, "F2")}× |";
        }
    }
}
