using SkiaSharp;

namespace FaceDistill.Faces.Occlusion;

public enum MaskStyle
{
    Surgical,
    N95,
    Cloth,
}

/// <summary>
/// A face mask over the lower half of the face: from the nose bridge (between landmarks 28 and 29) down around the jaw
/// (1–15) to below the chin (8), with ear loops. Styles: blue pleated surgical mask, white N95 (rounder, with a seam),
/// black cloth mask. A null style picks one at random per image.
/// </summary>
public sealed class SurgicalMask(MaskStyle? style) : Occluder
{
    public override string Name => style is { } s ? $"mask:{s.ToString().ToLowerInvariant()}" : "mask";

    protected override void Draw(SKCanvas canvas, FaceGeometry f, Random rng)
    {
        var kind = style ?? (MaskStyle)rng.Next(3);
        float u = f.EyeDistance;
        // the upper edge rests on the nose bridge, and never above the lower eyelids (40, 41, 46, 47)
        float lids = new[] { 40, 41, 46, 47 }.Max(i => f[i].Y);
        float top = Math.Max(f[28].Y, lids + 0.2f * u) + (float)(rng.NextDouble() * 0.1 - 0.05) * u;
        float chin = f[8].Y + (kind == MaskStyle.N95 ? 0.18f : 0.1f) * u;
        float grow = kind == MaskStyle.N95 ? 0.1f * u : 0.04f * u;
        var pts = Outline(f, top, chin, grow);
        using var path = Smooth(pts);
        var colour = kind switch
        {
            MaskStyle.Surgical => Jitter(new SKColor(142, 190, 222), rng),
            MaskStyle.N95 => Jitter(new SKColor(236, 236, 230), rng, 10),
            _ => Jitter(new SKColor(34, 34, 38), rng, 10),
        };
        var bounds = path.Bounds;
        using (var fill = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill })
        {
            // soft shading: lighter in the middle, darker at the sides (the mask wraps around the face)
            fill.Shader = SKShader.CreateLinearGradient(
                new SKPoint(bounds.Left, 0),
                new SKPoint(bounds.Right, 0),
                [Shade(colour, 0.78f), colour, Shade(colour, 0.78f)],
                [0f, 0.5f, 1f],
                SKShaderTileMode.Clamp
            );
            canvas.DrawPath(path, fill);
        }
        using var line = new SKPaint
        {
            IsAntialias = true,
            Style = SKPaintStyle.Stroke,
            StrokeWidth = Math.Max(1, 0.03f * u),
            Color = Shade(colour, 0.7f),
        };
        canvas.Save();
        canvas.ClipPath(path, antialias: true);
        if (kind == MaskStyle.Surgical)
            for (int k = 1; k <= 3; k++)
            {
                float y = top + (chin - top) * (0.2f + 0.2f * k);
                canvas.DrawLine(bounds.Left, y, bounds.Right, y + 0.02f * u, line);
            }
        else if (kind == MaskStyle.N95)
            canvas.DrawLine(f[28].X, top, f[8].X, chin, line);
        canvas.Restore();
        // ear loops, from the mask's upper and lower corners towards the ears
        using var loop = new SKPaint
        {
            IsAntialias = true,
            Style = SKPaintStyle.Stroke,
            StrokeWidth = Math.Max(1, 0.04f * u),
            Color = kind == MaskStyle.Cloth ? colour : new SKColor(245, 245, 245),
        };
        foreach (var (side, ear) in new[] { (pts[0], f[0]), (pts[2], f[16]) })
        {
            canvas.DrawLine(side, ear, loop);
            canvas.DrawLine(new SKPoint(side.X, side.Y + 0.6f * (chin - top)), ear, loop);
        }
    }

    /// <summary>A mask's outline: across the nose bridge at <paramref name="top"/>, down the jaw line (1–15, grown
    /// outwards by <paramref name="grow"/>) below it, under the chin at <paramref name="chin"/>, back up; the first
    /// three points are the upper left corner, the bridge and the upper right corner.</summary>
    public static List<SKPoint> Outline(FaceGeometry f, float top, float chin, float grow)
    {
        float u = f.EyeDistance;
        var pts = new List<SKPoint>
        {
            new(f[1].X - grow, top + 0.15f * u),
            new(f[28].X, top - 0.05f * u),
            new(f[15].X + grow, top + 0.15f * u),
        };
        for (int j = 14; j >= 9; j--)
            if (f[j].Y > top + 0.25f * u)
                pts.Add(new SKPoint(f[j].X + grow, f[j].Y + (j < 11 ? 0.05f * u : 0)));
        pts.Add(new SKPoint(f[8].X, chin));
        for (int j = 7; j >= 2; j--)
            if (f[j].Y > top + 0.25f * u)
                pts.Add(new SKPoint(f[j].X - grow, f[j].Y + (j > 5 ? 0.05f * u : 0)));
        return pts;
    }

    private static SKColor Shade(SKColor c, float k) => new((byte)(c.Red * k), (byte)(c.Green * k), (byte)(c.Blue * k));
}
