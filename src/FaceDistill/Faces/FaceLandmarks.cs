using FaceDistill.Faces.Zoo;

namespace FaceDistill.Faces;

/// <summary>A 2-D point in image pixels.</summary>
public readonly record struct Point2(double X, double Y)
{
    /// <summary>The Euclidean distance to <paramref name="other"/>.</summary>
    public double DistanceTo(Point2 other) => Math.Sqrt((X - other.X) * (X - other.X) + (Y - other.Y) * (Y - other.Y));
}

/// <summary>The 68 iBUG landmarks of one face, in image pixels, with face-api's derived crops (face-api spec,
/// ../shared/reference/faceapi/SPEC.md §2, §6) and the five points of the standard ArcFace alignment.</summary>
public sealed class FaceLandmarks
{
    public const int Count = 68;
    public IReadOnlyList<Point2> Points { get; }

    public FaceLandmarks(IReadOnlyList<Point2> points)
    {
        if (points.Count != Count)
            throw new ArgumentException($"expected {Count} landmarks, got {points.Count}");
        Points = points;
    }

    /// <summary>face-api's <c>FaceLandmark68NetBase.postProcess</c>: the net's 136 outputs (units of the padded 112²
    /// square) → positions relative to a <paramref name="cropWidth"/>×<paramref name="cropHeight"/> crop (0..1).
    /// <c>scale = 112/max(cw, ch)</c>, <c>w = cw·scale</c>, <c>h = ch·scale</c> (unrounded), <c>pad = |w − h|/2</c> on
    /// the shorter side, <c>rel = (fc·112 − pad)/w</c> — note the net's input put ⌊diff/2⌋ before, not diff/2;
    /// reproduced as is.</summary>
    public static Point2[] RelativeFromNetOutput(
        ReadOnlySpan<float> fc,
        int cropWidth,
        int cropHeight,
        int inputSize = 112
    )
    {
        if (fc.Length != 2 * Count)
            throw new ArgumentException($"expected {2 * Count} landmark outputs, got {fc.Length}");
        double scale = inputSize / (double)Math.Max(cropWidth, cropHeight);
        double w = cropWidth * scale,
            h = cropHeight * scale;
        double padX = w < h ? Math.Abs(w - h) / 2 : 0,
            padY = h < w ? Math.Abs(w - h) / 2 : 0;
        var rel = new Point2[Count];
        for (int i = 0; i < Count; i++)
            rel[i] = new Point2((fc[2 * i] * inputSize - padX) / w, (fc[2 * i + 1] * inputSize - padY) / h);
        return rel;
    }

    /// <summary>Landmarks in image pixels from the net's output on <paramref name="crop"/>, shifted by the unfloored
    /// detection box's corner (face-api's <c>extendWithFaceLandmarks</c>).</summary>
    public static FaceLandmarks FromNetOutput(ReadOnlySpan<float> fc, CropRect crop, FaceBox detection) =>
        new(
            RelativeFromNetOutput(fc, crop.Width, crop.Height)
                .Select(p => new Point2(p.X * crop.Width + detection.X, p.Y * crop.Height + detection.Y))
                .ToArray()
        );

    /// <summary>face-api's <c>alignedRect</c>: the landmarks' bounding box (max starting at 0) grown by 20 % — the crop
    /// the expression and age/gender nets see.</summary>
    public FaceBox AlignedRect()
    {
        double minX = double.PositiveInfinity,
            minY = double.PositiveInfinity,
            maxX = 0,
            maxY = 0;
        foreach (var p in Points)
        {
            minX = Math.Min(minX, p.X);
            minY = Math.Min(minY, p.Y);
            maxX = Math.Max(maxX, p.X);
            maxY = Math.Max(maxY, p.Y);
        }
        var box = new FaceBox(minX, minY, maxX - minX, maxY - minY);
        return box.Pad(box.Width * 0.2, box.Height * 0.2);
    }

    private Point2 Mean(int from, int to)
    {
        double x = 0,
            y = 0;
        for (int i = from; i <= to; i++)
        {
            x += Points[i].X;
            y += Points[i].Y;
        }
        int n = to - from + 1;
        return new Point2(x / n, y / n);
    }

    public Point2 LeftEyeCenter => Mean(36, 41); // on the image's left (the subject's right eye)
    public Point2 RightEyeCenter => Mean(42, 47);
    public Point2 MouthCenter => Mean(48, 67);

    /// <summary>face-api's dlib alignment (<c>align(null, {useDlibAlignment: true})</c>), the recognition net's crop:
    /// <c>size = ⌊mean(|mouth − eyeL|, |mouth − eyeR|)/0.45⌋</c>, <c>ref</c> = centre of the three centres, <c>x =
    /// ⌊max(0, ref.x − 0.5·size)⌋</c>, <c>y = ⌊max(0, ref.y − 0.43·size)⌋</c>, width = <c>min(size, cropWidth + x)</c>.
    /// </summary>
    public FaceBox DlibRect(int landmarkCropWidth, int landmarkCropHeight)
    {
        Point2 l = LeftEyeCenter,
            r = RightEyeCenter,
            m = MouthCenter;
        double size = Math.Floor((m.DistanceTo(l) + m.DistanceTo(r)) / 2 / 0.45);
        double refX = (l.X + r.X + m.X) / 3,
            refY = (l.Y + r.Y + m.Y) / 3;
        double x = Math.Floor(Math.Max(0, refX - 0.5 * size)),
            y = Math.Floor(Math.Max(0, refY - 0.43 * size));
        return new FaceBox(x, y, Math.Min(size, landmarkCropWidth + x), Math.Min(size, landmarkCropHeight + y));
    }

    /// <summary>The five points of the ArcFace alignment: eye centres, nose tip (30), mouth corners (48, 54) — in the
    /// template's order (image-left eye first).</summary>
    public Point2[] FivePoints() => [LeftEyeCenter, RightEyeCenter, Points[30], Points[48], Points[54]];

    /// <summary>The four points every landmark source has (BlazeFace's keypoints too): the eye centres (image-left
    /// first), the nose tip, the midpoint of the mouth corners.</summary>
    public Point2[] FourPoints() =>
        [
            LeftEyeCenter,
            RightEyeCenter,
            Points[30],
            new((Points[48].X + Points[54].X) / 2, (Points[48].Y + Points[54].Y) / 2),
        ];

    /// <summary>x0, y0 … x67, y67 in pixels: the form of <see cref="Data.FaceLabels.Landmarks"/>, which occluders
    /// take.</summary> <summary>The landmarks of a flat <c>x0, y0 … x67, y67</c> array (the form datasets carry them
    /// in).</summary>
    public static FaceLandmarks FromXY(IReadOnlyList<float> xy) =>
        new(Enumerable.Range(0, Count).Select(i => new Point2(xy[2 * i], xy[2 * i + 1])).ToArray());

    public float[] ToXY() => Points.SelectMany(p => new[] { (float)p.X, (float)p.Y }).ToArray();
}
