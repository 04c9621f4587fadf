using FaceDistill.Data;

namespace FaceDistill.Faces;

/// <summary>The standard 5-point alignment of InsightFace/ArcFace: the least-squares similarity transform (Umeyama, no
/// reflection) that maps the eye centres, nose tip and mouth corners onto the 112×112 template
/// <code>
/// (38.2946, 51.6963) (73.5318, 51.5014) (56.0252, 71.7366) (41.5493, 92.3655) (70.7299, 92.2041)
/// </code>
/// then a bilinear warp (outside the image: black), as <c>cv2.warpAffine</c> with pixel centres at integer coordinates.
/// In complex numbers, with centred points: <c>a = Σ conj(s̃ᵢ)·d̃ᵢ / Σ |s̃ᵢ|²</c>, <c>b = d̄ − a·s̄</c>, and <c>dst =
/// a·src + b</c>.</summary>
public static class FaceAligner
{
    public static readonly Point2[] ArcFaceTemplate =
    [
        new(38.2946, 51.6963),
        new(73.5318, 51.5014),
        new(56.0252, 71.7366),
        new(41.5493, 92.3655),
        new(70.7299, 92.2041),
    ];

    /// <summary>Similarity transform <c>dst = [[a, −b], [b, a]]·src + (tx, ty)</c> fitted by least squares.</summary>
    public static (double A, double B, double Tx, double Ty) Similarity(
        IReadOnlyList<Point2> src,
        IReadOnlyList<Point2> dst
    )
    {
        if (src.Count != dst.Count || src.Count < 2)
            throw new ArgumentException("need at least two matching points");
        double sx = src.Average(p => p.X),
            sy = src.Average(p => p.Y),
            dx = dst.Average(p => p.X),
            dy = dst.Average(p => p.Y);
        double num_re = 0,
            num_im = 0,
            den = 0;
        for (int i = 0; i < src.Count; i++)
        {
            double ux = src[i].X - sx,
                uy = src[i].Y - sy,
                vx = dst[i].X - dx,
                vy = dst[i].Y - dy;
            num_re += ux * vx + uy * vy; // Re(conj(u)·v)
            num_im += ux * vy - uy * vx; // Im(conj(u)·v)
            den += ux * ux + uy * uy;
        }
        if (den <= 0)
            throw new ArgumentException("landmarks are all at one point");
        double a = num_re / den,
            b = num_im / den;
        return (a, b, dx - (a * sx - b * sy), dy - (b * sx + a * sy));
    }

    /// <summary>The similarity onto the template scaled to <paramref name="size"/>: from five points (eye centres, nose
    /// tip, mouth corners), or from four (eye centres, nose tip, mouth centre — BlazeFace's keypoints), whose mouth
    /// point goes to the midpoint of the template's mouth corners.</summary>
    public static (double A, double B, double Tx, double Ty) ToTemplate(IReadOnlyList<Point2> points, int size = 112)
    {
        var t = ArcFaceTemplate.Select(p => new Point2(p.X * size / 112.0, p.Y * size / 112.0)).ToArray();
        return points.Count switch
        {
            5 => Similarity(points, t),
            4 => Similarity(points, [t[0], t[1], t[2], new((t[3].X + t[4].X) / 2, (t[3].Y + t[4].Y) / 2)]),
            _ => throw new ArgumentException($"alignment needs 4 or 5 points, got {points.Count}"),
        };
    }

    /// <summary>The aligned <paramref name="size"/>×<paramref name="size"/> crop from four or five points (<see
    /// cref="ToTemplate"/>).</summary>
    public static RgbImage Align(RgbImage image, IReadOnlyList<Point2> points, int size = 112)
    {
        var (a, b, tx, ty) = ToTemplate(points, size);
        return Warp(image, a, b, tx, ty, size, size);
    }

    /// <summary>Inverse-maps every output pixel through the similarity and samples bilinearly.</summary>
    public static RgbImage Warp(RgbImage image, double a, double b, double tx, double ty, int width, int height)
    {
        double det = a * a + b * b;
        // inverse of [[a, −b], [b, a]] is [[a, b], [−b, a]] / det
        double ia = a / det,
            ib = b / det;
        var outPx = new byte[width * height * 3];
        var px = image.Pixels;
        int w = image.Width,
            h = image.Height;
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            double u = x - tx,
                v = y - ty;
            double srcX = ia * u + ib * v,
                srcY = -ib * u + ia * v;
            int x0 = (int)Math.Floor(srcX),
                y0 = (int)Math.Floor(srcY);
            double fx = srcX - x0,
                fy = srcY - y0;
            for (int c = 0; c < 3; c++)
            {
                double Sample(int sx, int sy) =>
                    (uint)sx < (uint)w && (uint)sy < (uint)h ? px[(sy * w + sx) * 3 + c] : 0;
                double top = Sample(x0, y0) * (1 - fx) + Sample(x0 + 1, y0) * fx;
                double bottom = Sample(x0, y0 + 1) * (1 - fx) + Sample(x0 + 1, y0 + 1) * fx;
                outPx[(y * width + x) * 3 + c] = (byte)Math.Clamp(Math.Round(top * (1 - fy) + bottom * fy), 0, 255);
            }
        }
        return new RgbImage(width, height, outPx);
    }
}
