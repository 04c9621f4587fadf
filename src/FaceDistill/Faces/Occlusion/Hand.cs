using SkiaSharp;

namespace FaceDistill.Faces.Occlusion;

/// <summary>A hand in front of the face (<c>hand</c>): a palm of about 1.1 eye distances and four fingers, in one of
/// several skin tones with shading, over the mouth and chin (the lip centre, 62, jittered by a quarter of an eye
/// distance) or, one time in three, over a cheek (3 or 13), turned by up to ±40° — the occluder people add when they
/// cough, rest their chin or phone.</summary>
public sealed class Hand : Occluder
{
    public override string Name => "hand";

    private static readonly SKColor[] Skin =
    [
        new(241, 204, 180),
        new(224, 172, 140),
        new(198, 134, 100),
        new(160, 100, 70),
        new(110, 70, 50),
        new(80, 52, 40),
    ];

    protected override void Draw(SKCanvas canvas, FaceGeometry f, Random rng)
    {
        float u = f.EyeDistance;
        var at = rng.NextDouble() < 1 / 3.0 ? f[rng.Next(2) == 0 ? 3 : 13] : f[62];
        float cx = at.X + ((float)rng.NextDouble() - 0.5f) * 0.5f * u,
            cy = at.Y + ((float)rng.NextDouble() - 0.5f) * 0.5f * u;
        float angle = ((float)rng.NextDouble() - 0.5f) * 1.4f;
        var skin = Jitter(Skin[rng.Next(Skin.Length)], rng, 10);
        canvas.Save();
        canvas.RotateRadians(angle, cx, cy);
        float palm = (1.0f + 0.2f * (float)rng.NextDouble()) * u;
        using var paint = new SKPaint { IsAntialias = true };
        paint.Shader = SKShader.CreateRadialGradient(
            new SKPoint(cx - 0.2f * palm, cy - 0.2f * palm),
            1.4f * palm,
            [skin, new SKColor((byte)(skin.Red * 0.72f), (byte)(skin.Green * 0.72f), (byte)(skin.Blue * 0.72f))],
            SKShaderTileMode.Clamp
        );
        canvas.DrawOval(cx, cy + 0.25f * palm, 0.5f * palm, 0.42f * palm, paint);
        // four fingers above the palm, side by side; the thumb along one side
        float fw = 0.22f * palm;
        for (int i = 0; i < 4; i++)
        {
            float x = cx - 1.5f * fw + i * fw;
            float length = palm * (i is 1 or 2 ? 0.75f : 0.62f);
            canvas.DrawRoundRect(
                new SKRect(x - fw / 2, cy - length, x + fw / 2, cy + 0.2f * palm),
                fw / 2,
                fw / 2,
                paint
            );
        }
        canvas.Save();
        canvas.RotateRadians(0.9f, cx - 0.45f * palm, cy + 0.3f * palm);
        canvas.DrawRoundRect(
            new SKRect(cx - 0.45f * palm - fw / 2, cy - 0.25f * palm, cx - 0.45f * palm + fw / 2, cy + 0.35f * palm),
            fw / 2,
            fw / 2,
            paint
        );
        canvas.Restore();
        using var crease = Stroke(0.02f * u, SKColors.Black.WithAlpha(60));
        for (int i = 1; i < 4; i++)
        {
            float x = cx - 1.5f * fw + i * fw - fw / 2;
            canvas.DrawLine(x, cy - 0.5f * palm, x, cy + 0.15f * palm, crease);
        }
        canvas.Restore();
    }
}
