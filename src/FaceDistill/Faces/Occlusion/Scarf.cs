using SkiaSharp;

namespace FaceDistill.Faces.Occlusion;

/// <summary>A knitted scarf (<c>scarf</c>) pulled up over the lower face: its wavy top edge between the nose tip (30)
/// and the nostrils (33), wider than the jaw by about half an eye distance on each side and down past the chin, in a
/// fabric colour with knit ribs, fabric grain and shading from a random side — a lower-face occluder that is not a
/// mask.</summary>
public sealed class Scarf : Occluder
{
    public override string Name => "scarf";

    private static readonly SKColor[] Wool =
    [
        new(120, 30, 35),
        new(40, 50, 80),
        new(90, 90, 95),
        new(200, 190, 170),
        new(50, 80, 60),
        new(160, 110, 60),
        new(25, 25, 30),
    ];

    protected override void Draw(SKCanvas canvas, FaceGeometry f, Random rng)
    {
        float u = f.EyeDistance;
        float top = f[30].Y + (float)rng.NextDouble() * (f[33].Y - f[30].Y + 0.1f * u);
        float left = f.Left - (0.3f + 0.4f * (float)rng.NextDouble()) * u,
            right = f.Right + (0.3f + 0.4f * (float)rng.NextDouble()) * u;
        float bottom = f[8].Y + (0.8f + 0.6f * (float)rng.NextDouble()) * u;
        using var path = new SKPath();
        path.MoveTo(left, top + 0.3f * u);
        int waves = 4;
        for (int i = 1; i <= waves; i++)
        {
            float x = left + (right - left) * i / waves;
            path.QuadTo(
                x - (right - left) / (2 * waves),
                top + ((i % 2) * 0.12f - 0.06f) * u,
                x,
                top + (i == waves ? 0.3f * u : 0)
            );
        }
        path.LineTo(right + 0.2f * u, bottom);
        path.LineTo(left - 0.2f * u, bottom);
        path.Close();
        var colour = Jitter(Wool[rng.Next(Wool.Length)], rng, 16);
        using (var fill = new SKPaint { IsAntialias = true, Color = colour })
            canvas.DrawPath(path, fill);
        canvas.Save();
        canvas.ClipPath(path, antialias: true);
        var b = path.Bounds;
        using (var rib = Stroke(0.05f * u, SKColors.Black.WithAlpha(50)))
        {
            for (float x = b.Left; x < b.Right; x += 0.14f * u)
                canvas.DrawLine(x, b.Top, x + 0.05f * u, b.Bottom, rib);
        }
        float angle = (float)(rng.NextDouble() * 2 * Math.PI);
        using (var light = new SKPaint())
        {
            light.Shader = SKShader.CreateLinearGradient(
                new SKPoint(b.MidX - MathF.Cos(angle) * b.Width / 2, b.MidY - MathF.Sin(angle) * b.Height / 2),
                new SKPoint(b.MidX + MathF.Cos(angle) * b.Width / 2, b.MidY + MathF.Sin(angle) * b.Height / 2),
                [SKColors.White.WithAlpha(30), SKColors.Black.WithAlpha((byte)rng.Next(50, 120))],
                SKShaderTileMode.Clamp
            );
            canvas.DrawRect(b, light);
        }
        using var grain = new SKPaint
        {
            Shader = SKShader.CreatePerlinNoiseTurbulence(
                0.9f / Math.Max(1, 0.08f * u),
                0.3f / Math.Max(1, 0.08f * u),
                2,
                rng.Next(1000)
            ),
            BlendMode = SKBlendMode.Overlay,
            Color = SKColors.White.WithAlpha(110),
        };
        canvas.DrawRect(b, grain);
        canvas.Restore();
    }
}
