using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Faces.Zoo;

namespace FaceDistill.Faces;

/// <summary>One landmark source's error: over the faces found on a clean photo, how many it also locates on the other
/// version of the photo (<see cref="Lost"/>: none found there), and the normalised mean error of those it does — its
/// mean, median and 90th percentile (nearest rank).</summary>
public sealed record LandmarkError(string Source, int Faces, int Lost, double MeanNme, double MedianNme, double P90Nme);

/// <summary>
/// How far a front end's landmarks move when the same photo changes — an occluder drawn on it (the other folder holds
/// the occluded copy under the same relative path), or only its scale (<c>scale</c>: the clean photo resized, the
/// reference for what "stable" means). Per source — face-api's 68 landmarks on each detector's box, and BlazeFace's own
/// keypoints, and a landmark student (<see cref="LandmarkStudent"/>) on BlazeFace's box when one is given — the four
/// points every source has (the two eye centres, the nose tip, the mouth centre; from the 68:
/// means of 36–41 and 42–47, point 30, the midpoint of 48 and 54) on the most confident face of the clean photo and on
/// the face of the other photo whose box centre is nearest:
/// <code>
///   NME = (1/4) Σ_i ‖p_i(other) − p_i(clean)‖ / ‖eye_right(clean) − eye_left(clean)‖
/// </code>
/// with the other photo's points mapped back to the clean photo's pixels.
/// </summary>
public static class LandmarkSurvey
{
    public static IReadOnlyList<LandmarkError> Run(
        string cleanFolder,
        string? otherFolder,
        double scale,
        double minScore,
        string? home = null,
        string? student = null,
        IReadOnlyCollection<string>? only = null
    )
    {
        if (minScore is < 0 or > 1)
            throw new FaceDistillException($"--min-score must be in [0, 1], found {minScore}");
        if (otherFolder is null && scale is <= 0 or >= 4 or 1)
            throw new FaceDistillException($"--scale must be in (0, 4) and not 1, found {scale}");
        if (otherFolder is not null && !Directory.Exists(otherFolder))
            throw FaceDistillException.ForFile(otherFolder, "no such folder");
        var clean = ImageFolder.List(cleanFolder, allowFile: false);
        var pairs = clean
            .Select(c =>
                (c, o: otherFolder is null ? c : Path.Combine(otherFolder, Path.GetRelativePath(cleanFolder, c)))
            )
            .Where(p => File.Exists(p.o))
            .ToList();
        if (pairs.Count == 0)
            throw FaceDistillException.ForFile(otherFolder ?? cleanFolder, "holds none of the clean folder's photos");
        using var learned = student is null ? null : LandmarkStudent.Load(student);
        var sources = new List<(string Name, FaceDetectorKind Detector, bool Keypoints, LandmarkStudent? Student)>
        {
            ("ssd + 68", FaceDetectorKind.Ssd, false, null),
            ("tiny + 68", FaceDetectorKind.Tiny, false, null),
            ("blazeface + 68", FaceDetectorKind.BlazeFace, false, null),
            ("blazeface keypoints", FaceDetectorKind.BlazeFace, true, null),
        };
        if (learned is not null)
            sources.Add(("blazeface + student", FaceDetectorKind.BlazeFace, false, learned));
        if (only is { Count: > 0 })
        {
            if (only.FirstOrDefault(n => sources.All(s => s.Name != n)) is { } unknown)
                throw new FaceDistillException(
                    $"--sources: no source '{unknown}' (expected {string.Join(", ", sources.Select(s => s.Name))})"
                );
            sources = sources.Where(s => only.Contains(s.Name)).ToList();
        }
        var errors = new List<LandmarkError>();
        foreach (var (name, detector, keypoints, s) in sources)
        {
            using var zoo = new FaceAnalyzer(home)
            {
                Detector = detector,
                MinConfidence = minScore,
                Student = s,
            };
            var nme = new List<double>();
            int faces = 0,
                lost = 0;
            using var bar = Progress.Start($"landmarks ({name})", pairs.Count);
            for (int i = 0; i < pairs.Count; i++)
            {
                var a = ImageCodec.Load(pairs[i].c);
                var b = otherFolder is null ? Resize(a, scale) : ImageCodec.Load(pairs[i].o);
                double back = otherFolder is null ? 1 / scale : 1;
                var pa = Points(zoo, a, keypoints);
                bar.Update(i + 1);
                if (pa.Count == 0)
                    continue;
                faces++;
                var (_, boxA, pointsA) = pa.MaxBy(f => f.Score);
                var pb = Points(zoo, b, keypoints)
                    .Select(f => (f.Box, Points: f.Points.Select(p => new Point2(p.X * back, p.Y * back)).ToArray()))
                    .ToList();
                if (pb.Count == 0)
                {
                    lost++;
                    continue;
                }
                var pointsB = pb.MinBy(f => Centre(f.Box, back).DistanceTo(Centre(boxA, 1))).Points;
                nme.Add(Nme(pointsA, pointsB));
            }
            nme.Sort();
            errors.Add(
                new LandmarkError(
                    name,
                    faces,
                    lost,
                    nme.Count == 0 ? double.NaN : nme.Average(),
                    nme.Count == 0 ? double.NaN : nme[nme.Count / 2],
                    nme.Count == 0 ? double.NaN : nme[Math.Max(0, (int)Math.Ceiling(0.9 * nme.Count) - 1)]
                )
            );
        }
        return errors;
    }

    /// <summary>The normalised mean error of four points (eyes, nose tip, mouth centre) against the reference's
    /// inter-ocular distance.</summary>
    public static double Nme(IReadOnlyList<Point2> reference, IReadOnlyList<Point2> other)
    {
        double iod = reference[0].DistanceTo(reference[1]);
        return Enumerable.Range(0, 4).Average(i => reference[i].DistanceTo(other[i])) / Math.Max(iod, 1e-9);
    }

    /// <summary>Each face's box, score and four points: BlazeFace's own keypoints (image-left eye first), or face-api's
    /// 68 landmarks on the detector's box.</summary>
    private static List<(double Score, FaceBox Box, Point2[] Points)> Points(
        FaceAnalyzer zoo,
        RgbImage image,
        bool keypoints
    )
    {
        var found = NativeRetry.Run(() => zoo.Detect(image));
        // the detector is BlazeFace: its four keypoints, the subject's right eye on the image's left
        if (keypoints)
            return found
                .Select(d => (d.Score, d.Box, d.Keypoints!.Select(p => new Point2(p.X, p.Y)).ToArray()))
                .ToList();
        return NativeRetry
            .Run(() => zoo.Locate(image, found))
            .Select(f => (f.Detection.Score, f.Detection.Box, f.Landmarks.FourPoints()))
            .ToList();
    }

    private static RgbImage Resize(RgbImage image, double scale)
    {
        int w = Math.Max(16, (int)Math.Round(image.Width * scale)),
            h = Math.Max(16, (int)Math.Round(image.Height * scale));
        return FaceAligner.Warp(image, scale, 0, 0, 0, w, h);
    }

    private static Point2 Centre(FaceBox b, double back) =>
        new((b.X + b.Width / 2) * back, (b.Y + b.Height / 2) * back);
}
