using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Faces.Zoo;

namespace FaceDistill.Faces;

/// <summary>What <see cref="DatasetAligner.Run"/> did.</summary>
public sealed record AlignReport(
    int Aligned,
    List<string> NoFace,
    List<string> Unreadable,
    List<string> Fallback,
    List<string> Padded
)
{
    /// <summary>Images whose points failed <see cref="FacePlausibility"/> and were aligned from the detector's box
    /// (listed in <c>box_aligned.txt</c>).</summary>
    public List<string> BoxAligned { get; init; } = [];
}

/// <summary>
/// Aligns a whole image folder to the ArcFace template (<see cref="FaceAligner"/>): for each image the most confident
/// face's 68 landmarks (given in a CSV, or detected by the zoo), the 5-point similarity warp, a PNG crop at the same
/// relative path, and <c>landmarks.csv</c> with the 68 points mapped into the crop. Images with no face are listed in
/// <c>no_face.txt</c>, unreadable ones in <c>unreadable.txt</c>; neither stops the run.
/// <para>With <paramref name="fallbackBox"/> &gt; 0, an image where the detector finds no face (datasets of face crops,
/// such as LFW, where the face is known to be in the middle) gets its landmarks from the centred square of that
/// fraction of the shorter side instead, and is listed in <c>fallback.txt</c>.</para>
/// <para>With <paramref name="pad"/> &gt; 0, an image where the detector finds no face is searched again with a border
/// of that fraction of its shorter side on every side (the edge pixels repeated), and the landmarks are located there
/// and shifted back; such images are listed in <c>padded.txt</c>. Detectors miss a face that fills the whole frame, as
/// in datasets of tight crops (UTKFace, Glint360K, FER2013): of glint6's 2,963 crops, which Glint360K aligned to the
/// same template, the tiny detector finds 502; with a border of 0.6 another 1,875, whose crops lie 11.5 from the
/// originals (mean |Δ| per pixel, 0-255) where the centre box's lay 24.8 (scripts/analysis/alignment-drift.cs). The
/// fallback box comes after it.</para>
/// <para>The points each face is aligned from are the analyzer's <see cref="FaceAnalyzer.AlignmentPoints"/>: with
/// <see cref="FaceAnalyzer.AlignFromKeypoints"/>, a face BlazeFace found is aligned from its own four keypoints (eye
/// centres, nose tip, mouth centre; the 68 landmarks written to <c>landmarks.csv</c> are still the landmark net's on
/// its box, mapped by that transform); points implausible for the box are replaced by the box's (listed in
/// <c>box_aligned.txt</c>). Landmarks given in a CSV are used as they are.</para>
/// </summary>
public sealed class DatasetAligner(FaceAnalyzer zoo, int size = 112, double fallbackBox = 0, double pad = 0)
{
    public AlignReport Run(
        string root,
        IReadOnlyList<string> files,
        string outDir,
        IReadOnlyDictionary<string, FaceLandmarks>? known = null,
        CancellationToken cancel = default
    )
    {
        var rows = new List<string> { LandmarkCsv.Header };
        var noFace = new List<string>();
        var unreadable = new List<string>();
        var fallback = new List<string>();
        var padded = new List<string>();
        var boxAligned = new List<string>();
        using (var bar = Progress.Start("align", files.Count))
        {
            for (int i = 0; i < files.Count; i++)
            {
                cancel.ThrowIfCancellationRequested();
                var rel = Path.GetRelativePath(root, files[i]).Replace('\\', '/');
                bar.Update(i + 1);
                RgbImage img;
                try
                {
                    img = ImageCodec.Load(files[i]);
                }
                catch (FaceDistillException e)
                {
                    unreadable.Add($"{rel}\t{e.Message}");
                    continue;
                }
                FaceLandmarks? lm = null;
                Point2[]? points = null;
                if (known is not null)
                {
                    if (known.TryGetValue(rel, out lm))
                        points = lm.FivePoints();
                }
                else if (Locate(img, out var how) is var (detection, found))
                {
                    lm = found;
                    points = zoo.AlignmentPoints(detection, found, out bool fromBox);
                    if (how == Found.WithBorder)
                        padded.Add(rel);
                    else if (how == Found.InCentreBox)
                        fallback.Add(rel);
                    if (fromBox)
                        boxAligned.Add(rel);
                }
                if (lm is null || points is null)
                {
                    noFace.Add(rel);
                    continue;
                }
                var (a, b, tx, ty) = FaceAligner.ToTemplate(points, size);
                var crop = FaceAligner.Warp(img, a, b, tx, ty, size, size);
                var outRel = Path.ChangeExtension(rel, ".png");
                ImageCodec.Save(crop, Path.Combine(outDir, outRel));
                var mapped = new FaceLandmarks(
                    lm.Points.Select(p => new Point2(a * p.X - b * p.Y + tx, b * p.X + a * p.Y + ty)).ToArray()
                );
                rows.Add(LandmarkCsv.Row(outRel, mapped));
            }
        }
        Directory.CreateDirectory(outDir);
        AtomicFile.WriteAllText(Path.Combine(outDir, "landmarks.csv"), string.Join('\n', rows) + "\n");
        if (noFace.Count > 0)
            AtomicFile.WriteAllText(Path.Combine(outDir, "no_face.txt"), string.Join('\n', noFace) + "\n");
        if (unreadable.Count > 0)
            AtomicFile.WriteAllText(Path.Combine(outDir, "unreadable.txt"), string.Join('\n', unreadable) + "\n");
        if (fallback.Count > 0)
            AtomicFile.WriteAllText(Path.Combine(outDir, "fallback.txt"), string.Join('\n', fallback) + "\n");
        if (padded.Count > 0)
            AtomicFile.WriteAllText(Path.Combine(outDir, "padded.txt"), string.Join('\n', padded) + "\n");
        if (boxAligned.Count > 0)
            AtomicFile.WriteAllText(Path.Combine(outDir, "box_aligned.txt"), string.Join('\n', boxAligned) + "\n");
        return new AlignReport(rows.Count - 1, noFace, unreadable, fallback, padded) { BoxAligned = boxAligned };
    }

    private enum Found
    {
        Detected,
        WithBorder,
        InCentreBox,
    }

    /// <summary>The most confident face and its landmarks: detected, else detected with a border, else in the centre
    /// box, else none; <paramref name="how"/> says which.</summary>
    private (FaceDetection, FaceLandmarks)? Locate(RgbImage img, out Found how)
    {
        how = Found.Detected;
        var best = Best(img);
        if (best.Count > 0 && First(img, best) is { } direct)
            return direct;
        if (pad > 0)
        {
            int border = (int)Math.Round(pad * Math.Min(img.Width, img.Height));
            var big = img.PadEdge(border);
            var found = Best(big);
            if (found.Count > 0 && First(big, found) is var (d, lm))
            {
                how = Found.WithBorder;
                return (
                    d.Shifted(-border, -border),
                    new FaceLandmarks(lm.Points.Select(p => new Point2(p.X - border, p.Y - border)).ToArray())
                );
            }
        }
        if (fallbackBox <= 0)
            return null;
        how = Found.InCentreBox;
        double side = fallbackBox * Math.Min(img.Width, img.Height);
        var box = new FaceBox((img.Width - side) / 2, (img.Height - side) / 2, side, side);
        return First(img, [new FaceDetection(0, box)]);
    }

    private List<FaceDetection> Best(RgbImage img) =>
        NativeRetry.Run(() => zoo.Detect(img)).OrderByDescending(d => d.Score).Take(1).ToList();

    private (FaceDetection, FaceLandmarks)? First(RgbImage img, List<FaceDetection> detections) =>
        NativeRetry.Run(() => zoo.Locate(img, detections)) is [var f, ..] ? (f.Detection, f.Landmarks) : null;
}
