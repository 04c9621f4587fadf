using System.Diagnostics;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Faces.Zoo;

namespace FaceDistill.Faces;

/// <summary>One detector over a folder of photos: how many distinct photos (by content) have at least one face with a
/// score above the minimum, the photos where it found none, and its time per photo.</summary>
public sealed record DetectionRate(
    string Detector,
    int Photos,
    int WithFace,
    double MillisecondsPerPhoto,
    IReadOnlyList<string> Missed
)
{
    public double Rate => Photos == 0 ? 0 : WithFace / (double)Photos;
}

/// <summary>
/// The front end's first question on a folder of photos (e.g. rmfd-sample's real masked photos, where every photo
/// shows at least one face): does each detector find a face? Byte-identical photos count once. Optionally a contact
/// sheet of what each detector found where it was least sure — the best face of the 12 photos whose best score was
/// lowest, one row per detector — for the eye (false detections show there first). With several detectors a last row
/// counts the photos any of them finds a face in (what a fallback chain over them would find; its time is the sum, an
/// upper bound).
/// </summary>
public static class DetectionSurvey
{
    public static IReadOnlyList<DetectionRate> Run(
        string folder,
        IReadOnlyList<FaceDetectorKind> detectors,
        double minScore,
        string? gridPath = null,
        string? home = null
    )
    {
        if (minScore is < 0 or > 1)
            throw new FaceDistillException($"--min-score must be in [0, 1], found {minScore}");
        if (gridPath is not null)
        {
            AtomicFile.CheckWritable(gridPath, "--grid");
            Plots.BitmapFile.CheckPath(gridPath, "--grid");
        }
        var photos = Distinct(ImageFolder.List(folder, allowFile: false));
        var rates = new List<DetectionRate>();
        var cells = new List<(Func<RgbImage> Image, int Class)>();
        for (int d = 0; d < detectors.Count; d++)
        {
            using var zoo = new FaceAnalyzer(home) { Detector = detectors[d], MinConfidence = minScore };
            zoo.LoadDetector();
            var missed = new List<string>();
            var found = new List<(double Score, string Photo, CropRect Crop)>();
            var clock = new Stopwatch();
            using var bar = Progress.Start($"detect ({Name(detectors[d])})", photos.Count);
            for (int i = 0; i < photos.Count; i++)
            {
                var image = ImageCodec.Load(photos[i]);
                clock.Start();
                var faces = NativeRetry.Run(() => zoo.Detect(image));
                clock.Stop();
                if (faces.Count == 0)
                    missed.Add(photos[i]);
                else if (gridPath is not null)
                {
                    var best = faces.MaxBy(f => f.Score)!;
                    var crop = best.Box.ClipAndFloor(image.Width, image.Height);
                    if (!crop.IsEmpty)
                        found.Add((best.Score, photos[i], crop));
                }
                bar.Update(i + 1);
            }
            int detector = d;
            foreach (var (_, photo, crop) in found.OrderBy(f => f.Score).Take(12))
                cells.Add((() => ImageCodec.Load(photo).Crop(crop.X, crop.Y, crop.Width, crop.Height), detector));
            rates.Add(
                new DetectionRate(
                    Name(detectors[d]),
                    photos.Count,
                    photos.Count - missed.Count,
                    clock.Elapsed.TotalMilliseconds / Math.Max(1, photos.Count),
                    missed
                )
            );
        }
        if (gridPath is not null)
            ImageGrid.Write(gridPath, detectors.Select(Name).ToList(), cells, perRow: 12, cell: 64);
        if (rates.Count > 1)
        {
            // a fallback chain over these detectors finds a face wherever any of them does
            var missedByAll = rates.Select(r => r.Missed).Aggregate((a, b) => a.Intersect(b).ToList());
            rates.Add(
                new DetectionRate(
                    "any (fallback)",
                    photos.Count,
                    photos.Count - missedByAll.Count,
                    rates.Sum(r => r.MillisecondsPerPhoto),
                    missedByAll
                )
            );
        }
        return rates;
    }

    private static string Name(FaceDetectorKind k) => FaceDetectors.Names[(int)k];

    /// <summary>The photos with distinct content (the first path of each), in order.</summary>
    private static List<string> Distinct(List<string> paths)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return paths.Where(p => seen.Add(ModelZoo.Sha256(p))).ToList();
    }
}
