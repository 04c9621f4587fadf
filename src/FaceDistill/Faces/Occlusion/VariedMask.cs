using SkiaSharp;

namespace FaceDistill.Faces.Occlusion;

/// <summary>
/// A face mask drawn with the variety of real ones (<c>mask:varied</c>), every choice by seed:
/// <list type="bullet">
/// <item>kind — cloth (half: a solid colour, stripes, checks, dots or a print of blobs, from a palette of common fabric
/// colours), surgical (a third: blue, white, black or pink, three pleats), KN95 (white or black, a centre seam, fold
/// lines, sometimes a valve);</item>
/// <item>fit — tight, loose (wider, lower under the chin), worn under the nose (its top edge at the nostrils), or
/// slipped (lower and turned a little);</item>
/// <item>light — a shading gradient from a random side, darker towards the chin, fabric grain (fractal noise), soft
/// wrinkles;</item>
/// <item>straps — ear loops, or head straps for the KN95.</item>
/// </list>
/// The outline follows the jaw as <see cref="SurgicalMask"/> does (<see cref="SurgicalMask.Outline"/>).
/// </summary>
public sealed class VariedMask : Occluder
{
    public override string Name => "mask:varied";

    private static readonly SKColor[] Fabric =
    [
        new(25, 25, 28),
        new(40, 52, 90),
        new(110, 110, 115),
        new(200, 200, 196),
        new(150, 30, 40),
        new(60, 95, 60),
        new(230, 200, 170),
        new(90, 60, 110),
        new(190, 120, 150),
        new(30, 80, 120),
    ];

    protected override void Draw(SKCanvas canvas, FaceGeometry f, Random rng)
    {
        float u = f.EyeDistance;
        double k = rng.NextDouble();
        int kind =
            k < 0.5 ? 0
            : k < 0.83 ? 1
            : 2; // cloth, surgical, KN95
        double fitDraw = rng.NextDouble();
        int fit =
            fitDraw < 0.45 ? 0
            : fitDraw < 0.75 ? 1
            : fitDraw < 0.9 ? 2
            : 3; // tight, loose, under nose, slipped
        float lids = new[] { 40, 41, 46, 47 }.Max(i => f[i].Y);
        float top =
            fit == 2 ? f[33].Y - 0.02f * u : Math.Max(f[28].Y, lids + 0.2f * u) + Uniform(rng, -0.05f, 0.05f) * u;
        if (fit == 3)
            top += 0.25f * u;
        float chin =
            f[8].Y
            + (
                kind == 2 ? 0.2f
                : fit == 1 ? 0.18f
                : 0.08f
            ) * u;
        float grow =
            (
                fit == 1 ? 0.12f
                : kind == 2 ? 0.1f
                : 0.03f
            ) * u;
        canvas.Save();
        if (fit == 3)
            canvas.RotateRadians(Uniform(rng, -0.15f, 0.15f), f[33].X, f[33].Y);
        using var path = Smooth(SurgicalMask.Outline(f, top, chin, grow));
        var bounds = path.Bounds;
        var colour = kind switch
        {
            0 => Jitter(Fabric[rng.Next(Fabric.Length)], rng, 14),
            1 => Jitter(
                new[] { new SKColor(142, 190, 222), new(236, 238, 240), new(35, 35, 40), new(230, 170, 190) }[
                    rng.Next(4)
                ],
                rng,
                10
            ),
            _ => Jitter(rng.NextDouble() < 0.7 ? new SKColor(238, 236, 230) : new SKColor(30, 30, 34), rng, 8),
        };
        using (var fill = new SKPaint { IsAntialias = true, Color = colour })
            canvas.DrawPath(path, fill);
        canvas.Save();
        canvas.ClipPath(path, antialias: true);
        if (kind == 0)
            Print(canvas, bounds, u, rng);
        Folds(canvas, bounds, kind, top, chin, f, u, rng);
        Light(canvas, bounds, u, rng);
        canvas.Restore();
        Straps(canvas, f, bounds, top, chin, kind, colour, u);
        canvas.Restore();
    }

    private static float Uniform(Random rng, float lo, float hi) => lo + (hi - lo) * (float)rng.NextDouble();

    /// <summary>A cloth mask's print: solid (nothing more), stripes, checks, dots or blobs.</summary>
    private static void Print(SKCanvas canvas, SKRect b, float u, Random rng)
    {
        var second = Jitter(Fabric[rng.Next(Fabric.Length)], rng, 14);
        float period = Uniform(rng, 0.12f, 0.35f) * u;
        using var paint = new SKPaint { IsAntialias = true, Color = second.WithAlpha(220) };
        int print = rng.Next(5);
        switch (print)
        {
            case 1: // stripes at a random angle
            case 2: // checks: stripes both ways, the second half transparent
                float angle = Uniform(rng, 0, MathF.PI);
                for (int pass = 0; pass < print; pass++)
                {
                    canvas.Save();
                    canvas.RotateRadians(angle + pass * MathF.PI / 2, b.MidX, b.MidY);
                    paint.Color = second.WithAlpha((byte)(pass == 0 ? 210 : 120));
                    float reach = Math.Max(b.Width, b.Height);
                    for (float x = b.MidX - reach; x < b.MidX + reach; x += 2 * period)
                        canvas.DrawRect(x, b.MidY - reach, period, 2 * reach, paint);
                    canvas.Restore();
                }
                break;
            case 3: // dots on a grid
                float r = period * Uniform(rng, 0.15f, 0.3f);
                for (float y = b.Top; y < b.Bottom + period; y += period)
                for (
                    float x = b.Left + ((int)((y - b.Top) / period) % 2) * period / 2;
                    x < b.Right + period;
                    x += period
                )
                    canvas.DrawCircle(x, y, r, paint);
                break;
            case 4: // a print of blobs (flowers, camouflage) in two colours
                var third = Jitter(Fabric[rng.Next(Fabric.Length)], rng, 14);
                int n = (int)(b.Width * b.Height / (period * period) * 0.6f);
                for (int i = 0; i < n; i++)
                {
                    paint.Color = (i % 2 == 0 ? second : third).WithAlpha(200);
                    canvas.DrawOval(
                        Uniform(rng, b.Left, b.Right),
                        Uniform(rng, b.Top, b.Bottom),
                        period * Uniform(rng, 0.2f, 0.5f),
                        period * Uniform(rng, 0.15f, 0.4f),
                        paint
                    );
                }
                break;
        }
    }

    /// <summary>Pleats (surgical), a centre seam and fold lines (KN95), soft wrinkles (cloth); a valve on some KN95s.
    /// </summary>
    private static void Folds(
        SKCanvas canvas,
        SKRect b,
        int kind,
        float top,
        float chin,
        FaceGeometry f,
        float u,
        Random rng
    )
    {
        using var dark = Stroke(0.035f * u, SKColors.Black.WithAlpha(70));
        if (kind == 1)
            for (int p = 1; p <= 3; p++)
            {
                float y = top + (chin - top) * (0.18f + 0.2f * p);
                canvas.DrawLine(b.Left, y, b.Right, y + Uniform(rng, -0.03f, 0.03f) * u, dark);
            }
        else if (kind == 2)
        {
            canvas.DrawLine(f[28].X, top, f[8].X, chin, dark);
            using var arc = new SKPath();
            float y = top + 0.45f * (chin - top);
            arc.MoveTo(b.Left, y);
            arc.QuadTo(b.MidX, y + 0.12f * u, b.Right, y);
            canvas.DrawPath(arc, dark);
            if (rng.NextDouble() < 0.3)
            {
                using var valve = new SKPaint { IsAntialias = true, Color = Jitter(new SKColor(90, 90, 95), rng, 20) };
                float side = rng.Next(2) == 0 ? -1 : 1;
                canvas.DrawCircle(b.MidX + side * 0.3f * b.Width, top + 0.55f * (chin - top), 0.16f * u, valve);
            }
        }
        else
        {
            dark.StrokeWidth = Math.Max(1, 0.06f * u);
            dark.Color = SKColors.Black.WithAlpha(45);
            for (int w = rng.Next(1, 3); w > 0; w--)
            {
                using var wrinkle = new SKPath();
                float y = Uniform(rng, top + 0.2f * (chin - top), chin - 0.2f * (chin - top));
                wrinkle.MoveTo(b.Left + Uniform(rng, 0, 0.3f) * b.Width, y);
                wrinkle.QuadTo(
                    b.MidX,
                    y + Uniform(rng, -0.15f, 0.15f) * u,
                    b.Right - Uniform(rng, 0, 0.3f) * b.Width,
                    y
                );
                canvas.DrawPath(wrinkle, dark);
            }
        }
    }

    /// <summary>Light over the whole mask: a gradient from a random side, darker towards the chin and at the sides
    /// where it wraps the face, and fabric grain.</summary>
    private static void Light(SKCanvas canvas, SKRect b, float u, Random rng)
    {
        float angle = Uniform(rng, 0, 2 * MathF.PI);
        var from = new SKPoint(b.MidX - MathF.Cos(angle) * b.Width / 2, b.MidY - MathF.Sin(angle) * b.Height / 2);
        var to = new SKPoint(b.MidX + MathF.Cos(angle) * b.Width / 2, b.MidY + MathF.Sin(angle) * b.Height / 2);
        byte strength = (byte)rng.Next(40, 110);
        using (var light = new SKPaint { IsAntialias = true })
        {
            light.Shader = SKShader.CreateLinearGradient(
                from,
                to,
                [SKColors.White.WithAlpha((byte)(strength / 3)), SKColors.Black.WithAlpha(strength)],
                SKShaderTileMode.Clamp
            );
            canvas.DrawRect(b, light);
            light.Shader = SKShader.CreateLinearGradient(
                new SKPoint(b.Left, 0),
                new SKPoint(b.Right, 0),
                [SKColors.Black.WithAlpha(70), SKColors.Transparent, SKColors.Black.WithAlpha(70)],
                [0f, 0.5f, 1f],
                SKShaderTileMode.Clamp
            );
            canvas.DrawRect(b, light);
        }
        using var grain = new SKPaint
        {
            Shader = SKShader.CreatePerlinNoiseFractalNoise(
                1.2f / Math.Max(1, 0.1f * u),
                1.2f / Math.Max(1, 0.1f * u),
                2,
                rng.Next(1000)
            ),
            BlendMode = SKBlendMode.Overlay,
            Color = SKColors.White.WithAlpha(90),
        };
        canvas.DrawRect(b, grain);
    }

    private static void Straps(
        SKCanvas canvas,
        FaceGeometry f,
        SKRect b,
        float top,
        float chin,
        int kind,
        SKColor colour,
        float u
    )
    {
        using var strap = Stroke(0.04f * u, kind == 0 ? colour : new SKColor(240, 240, 240));
        if (kind == 2)
        {
            // head straps: above and below the ears, out of the face
            canvas.DrawLine(b.Left, top + 0.2f * (chin - top), b.Left - 0.8f * u, top - 0.3f * u, strap);
            canvas.DrawLine(b.Right, top + 0.2f * (chin - top), b.Right + 0.8f * u, top - 0.3f * u, strap);
            canvas.DrawLine(b.Left, chin - 0.3f * (chin - top), b.Left - 0.8f * u, chin, strap);
            canvas.DrawLine(b.Right, chin - 0.3f * (chin - top), b.Right + 0.8f * u, chin, strap);
            return;
        }
        foreach (var (x, ear) in new[] { (b.Left, f[0]), (b.Right, f[16]) })
        {
            canvas.DrawLine(x, top + 0.15f * u, ear.X, ear.Y, strap);
            canvas.DrawLine(x, top + 0.7f * (chin - top), ear.X, ear.Y, strap);
        }
    }
}
