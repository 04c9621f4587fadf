using FaceDistill.Core;
using FaceDistill.Data;
using SkiaSharp;

namespace FaceDistill.Faces.Occlusion;

/// <summary>
/// A synthetic occluder drawn over a face from its 68 iBUG landmarks (jaw 0–16, brows 17–26, nose 27–35, eyes 36–47,
/// lips 48–67), with SkiaSharp. Placement follows the landmarks (size, position and in-plane rotation of the face); the
/// style (colour, shape jitter) is drawn from the random source, so a view is deterministic for a seed. Applied as a
/// data transform (<see cref="OcclusionView"/>): the same sample gives the teacher its full face and the student the
/// occluded one, pixel-aligned.
/// </summary>
public abstract class Occluder
{
    /// <summary>The view-name part after <c>occluded:</c>, e.g. <c>mask</c>, <c>mask:n95</c>, <c>vr</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Draws the occluder onto <paramref name="canvas"/> in image pixels.</summary>
    protected abstract void Draw(SKCanvas canvas, FaceGeometry face, Random rng);

    /// <summary>A copy of <paramref name="image"/> with the occluder drawn over the face whose 136 landmark coordinates
    /// (x0, y0, … x67, y67, pixels) are given.</summary>
    public RgbImage Apply(RgbImage image, ReadOnlySpan<float> landmarks, Random rng)
    {
        if (landmarks.Length != 2 * FaceLandmarks.Count)
            throw new FaceDistillException(
                $"occluder '{Name}' needs {2 * FaceLandmarks.Count} landmark coordinates, got {landmarks.Length}"
            );
        var face = new FaceGeometry(landmarks);
        using var bmp = ImageCodec.ToBitmap(image);
        using (var canvas = new SKCanvas(bmp))
        {
            // draw in the face's own frame: x along the eye line, so a tilted head gets a tilted mask
            canvas.Translate(face.Centre.X, face.Centre.Y);
            canvas.RotateRadians(face.Roll);
            canvas.Translate(-face.Centre.X, -face.Centre.Y);
            Draw(canvas, face.Upright(), rng);
        }
        return ImageCodec.FromBitmap(bmp);
    }

    /// <summary>Parses the part of a view name after <c>occluded:</c>: <c>mask</c> (a random style),
    /// <c>mask:surgical</c>, <c>mask:n95</c>, <c>mask:cloth</c>, <c>mask:varied</c> (<see cref="VariedMask"/>),
    /// <c>vr</c>, <c>sunglasses</c>, <c>scarf</c> (<see cref="Scarf"/>), <c>hand</c> (<see cref="Hand"/>).</summary>
    public static Occluder Parse(string spec)
    {
        var parts = spec.Split(':');
        return parts[0] switch
        {
            "mask" when parts.Length == 1 => new SurgicalMask(null),
            "mask" when parts.Length == 2 && parts[1] == "varied" => new VariedMask(),
            "mask" when parts.Length == 2 && Enum.TryParse<MaskStyle>(parts[1], ignoreCase: true, out var s) =>
                new SurgicalMask(s),
            "vr" when parts.Length == 1 => new VrHeadset(),
            "sunglasses" when parts.Length == 1 => new Sunglasses(),
            "scarf" when parts.Length == 1 => new Scarf(),
            "hand" when parts.Length == 1 => new Hand(),
            _ => throw new FaceDistillException(
                $"unknown occluder '{spec}' (expected mask, mask:surgical, mask:n95, mask:cloth, mask:varied, vr, "
                    + "sunglasses, scarf or hand)"
            ),
        };
    }

    public static readonly string[] All =
    [
        "mask:surgical",
        "mask:n95",
        "mask:cloth",
        "mask:varied",
        "scarf",
        "hand",
        "vr",
        "sunglasses",
    ];

    /// <summary>An antialiased stroke at least one pixel wide.</summary>
    protected static SKPaint Stroke(float width, SKColor colour) =>
        new()
        {
            IsAntialias = true,
            Style = SKPaintStyle.Stroke,
            StrokeWidth = Math.Max(1, width),
            Color = colour,
        };

    protected static SKColor Jitter(SKColor c, Random rng, int amount = 18)
    {
        byte J(byte v) => (byte)Math.Clamp(v + rng.Next(-amount, amount + 1), 0, 255);
        return new SKColor(J(c.Red), J(c.Green), J(c.Blue));
    }

    protected static SKPath Smooth(IReadOnlyList<SKPoint> pts)
    {
        // a closed Catmull-Rom curve through the points, as cubic Béziers
        var path = new SKPath();
        int n = pts.Count;
        path.MoveTo(pts[0]);
        for (int i = 0; i < n; i++)
        {
            SKPoint p0 = pts[(i - 1 + n) % n],
                p1 = pts[i],
                p2 = pts[(i + 1) % n],
                p3 = pts[(i + 2) % n];
            path.CubicTo(
                p1 + new SKPoint((p2.X - p0.X) / 6, (p2.Y - p0.Y) / 6),
                p2 - new SKPoint((p3.X - p1.X) / 6, (p3.Y - p1.Y) / 6),
                p2
            );
        }
        path.Close();
        return path;
    }
}

/// <summary>The landmarks of one face, with the quantities occluders are placed by.</summary>
public sealed class FaceGeometry
{
    private readonly SKPoint[] _p;

    public FaceGeometry(ReadOnlySpan<float> xy)
    {
        _p = new SKPoint[FaceLandmarks.Count];
        for (int i = 0; i < _p.Length; i++)
            _p[i] = new SKPoint(xy[2 * i], xy[2 * i + 1]);
    }

    private FaceGeometry(SKPoint[] p) => _p = p;

    public SKPoint this[int i] => _p[i];

    public SKPoint Mean(int from, int to)
    {
        float x = 0,
            y = 0;
        for (int i = from; i <= to; i++)
        {
            x += _p[i].X;
            y += _p[i].Y;
        }
        return new SKPoint(x / (to - from + 1), y / (to - from + 1));
    }

    public SKPoint LeftEye => Mean(36, 41);
    public SKPoint RightEye => Mean(42, 47);

    /// <summary>In-plane rotation of the eye line (radians).</summary>
    public float Roll => MathF.Atan2(RightEye.Y - LeftEye.Y, RightEye.X - LeftEye.X);
    public SKPoint Centre => Mean(0, 67);

    /// <summary>Distance between the eye centres, the unit occluders are sized by.</summary>
    public float EyeDistance => SKPoint.Distance(LeftEye, RightEye);
    public float Left => _p.Take(17).Min(p => p.X);
    public float Right => _p.Take(17).Max(p => p.X);

    /// <summary>The same face rotated by −roll about its centre (eye line horizontal).</summary>
    public FaceGeometry Upright()
    {
        float a = -Roll,
            c = MathF.Cos(a),
            s = MathF.Sin(a);
        var o = Centre;
        return new FaceGeometry(
            _p.Select(p => new SKPoint(
                    o.X + c * (p.X - o.X) - s * (p.Y - o.Y),
                    o.Y + s * (p.X - o.X) + c * (p.Y - o.Y)
                ))
                .ToArray()
        );
    }
}
