namespace FaceDistill.Faces.Zoo;

/// <summary>An axis-aligned box in image pixels (x, y = top-left).</summary>
public readonly record struct FaceBox(double X, double Y, double Width, double Height)
{
    public double Right => X + Width;
    public double Bottom => Y + Height;
    public double Area => Width * Height;

    /// <summary>face-api's <c>clipAtImageBorders(W, H)</c> then floor (faceapi/SPEC.md §6): <c>x = max(x, 0)</c>, <c>y
    /// = max(y, 0)</c>, <c>w = min(right − x, W − x)</c>, <c>h = min(bottom − y, H − y)</c>, all four floored — the
    /// integer crop its nets see.</summary>
    public CropRect ClipAndFloor(int imageWidth, int imageHeight)
    {
        double x = Math.Max(X, 0),
            y = Math.Max(Y, 0);
        double w = Math.Min(Right - x, imageWidth - x),
            h = Math.Min(Bottom - y, imageHeight - y);
        return new CropRect((int)Math.Floor(x), (int)Math.Floor(y), (int)Math.Floor(w), (int)Math.Floor(h));
    }

    /// <summary>face-api's <c>box.pad(px, py)</c>: grows by <c>px</c>, <c>py</c> in total, centred.</summary>
    public FaceBox Pad(double px, double py) => new(X - px / 2, Y - py / 2, Width + px, Height + py);

    /// <summary>Intersection over union (face-api <c>iou(a, b, true)</c>).</summary>
    public static double IoU(FaceBox a, FaceBox b)
    {
        double w = Math.Max(0, Math.Min(a.Right, b.Right) - Math.Max(a.X, b.X));
        double h = Math.Max(0, Math.Min(a.Bottom, b.Bottom) - Math.Max(a.Y, b.Y));
        double inter = w * h;
        return inter / (a.Area + b.Area - inter);
    }
}

/// <summary>An integer crop rectangle.</summary>
public readonly record struct CropRect(int X, int Y, int Width, int Height)
{
    public bool IsEmpty => Width <= 0 || Height <= 0;
}

/// <summary>A detected face: score and box in image pixels, and — from a detector that has them (BlazeFace) — four
/// keypoints: the eye centres (image-left first), the nose tip, the mouth centre.</summary>
public sealed record FaceDetection(double Score, FaceBox Box, IReadOnlyList<(double X, double Y)>? Keypoints = null)
{
    /// <summary>The same face moved by (dx, dy) pixels.</summary>
    public FaceDetection Shifted(double dx, double dy) =>
        new(Score, Box with { X = Box.X + dx, Y = Box.Y + dy }, Keypoints?.Select(p => (p.X + dx, p.Y + dy)).ToArray());
}
