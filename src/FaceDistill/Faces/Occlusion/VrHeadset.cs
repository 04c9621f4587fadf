using SkiaSharp;

namespace FaceDistill.Faces.Occlusion;

/// <summary>
/// A virtual-reality headset over the upper half of the face (Georgescu et al.: the occlusion of FER for VR): a rounded
/// box from the forehead (above the brows, 17–26) to below the eyes (down to the nose, between 29 and 30), as wide as
/// the face outline (0, 16) plus a margin, with a strap to the sides. Dark plastic by default, sometimes white.
/// </summary>
public sealed class VrHeadset : Occluder
{
    public override string Name => "vr";

    protected override void Draw(SKCanvas canvas, FaceGeometry f, Random rng)
    {
        float u = f.EyeDistance;
        float browTop = Math.Min(f.Mean(17, 21).Y, f.Mean(22, 26).Y);
        float top = browTop - (0.35f + 0.15f * (float)rng.NextDouble()) * u;
        float bottom = (f[29].Y + f[30].Y) / 2 + (float)(rng.NextDouble() * 0.1) * u;
        float margin = (0.12f + 0.08f * (float)rng.NextDouble()) * u;
        var box = new SKRect(f.Left - margin, top, f.Right + margin, bottom);
        var body =
            rng.NextDouble() < 0.75
                ? Jitter(new SKColor(40, 40, 44), rng, 10)
                : Jitter(new SKColor(228, 228, 232), rng, 8);
        float r = 0.25f * box.Height;
        // strap first, behind the box, across the whole image width
        using (
            var strap = new SKPaint
            {
                IsAntialias = true,
                Color = Jitter(new SKColor(25, 25, 25), rng, 8),
                Style = SKPaintStyle.Fill,
            }
        )
        {
            float h = 0.22f * box.Height,
                cy = box.MidY - 0.1f * box.Height;
            canvas.DrawRect(new SKRect(-10 * u, cy - h / 2, 10 * u + box.Right, cy + h / 2), strap);
        }
        using (var fill = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill })
        {
            fill.Shader = SKShader.CreateLinearGradient(
                new SKPoint(0, box.Top),
                new SKPoint(0, box.Bottom),
                [Lighter(body, 1.25f), body, Lighter(body, 0.7f)],
                [0f, 0.55f, 1f],
                SKShaderTileMode.Clamp
            );
            canvas.DrawRoundRect(box, r, r, fill);
        }
        // a face-pad seam and a lens-free front panel outline
        using var edge = new SKPaint
        {
            IsAntialias = true,
            Style = SKPaintStyle.Stroke,
            StrokeWidth = Math.Max(1, 0.04f * u),
            Color = Lighter(body, 0.55f),
        };
        var panel = box;
        panel.Inflate(-0.12f * box.Height, -0.14f * box.Height);
        canvas.DrawRoundRect(panel, r * 0.6f, r * 0.6f, edge);
    }

    private static SKColor Lighter(SKColor c, float k) =>
        new(
            (byte)Math.Clamp(c.Red * k + (k > 1 ? 20 : 0), 0, 255),
            (byte)Math.Clamp(c.Green * k + (k > 1 ? 20 : 0), 0, 255),
            (byte)Math.Clamp(c.Blue * k + (k > 1 ? 20 : 0), 0, 255)
        );
}
