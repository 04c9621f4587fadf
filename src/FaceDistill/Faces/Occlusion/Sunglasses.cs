using SkiaSharp;

namespace FaceDistill.Faces.Occlusion;

/// <summary>Dark sunglasses: one lens per eye (36–41, 42–47), about 1.7× the eye's width, with a bridge over the nose
/// (27) and temples to the face outline (0, 16).</summary>
public sealed class Sunglasses : Occluder
{
    public override string Name => "sunglasses";

    protected override void Draw(SKCanvas canvas, FaceGeometry f, Random rng)
    {
        float u = f.EyeDistance;
        float w = (0.78f + 0.12f * (float)rng.NextDouble()) * u,
            h = (0.48f + 0.1f * (float)rng.NextDouble()) * u;
        var tint = Jitter(new SKColor(22, 22, 26), rng, 12);
        using var lens = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill };
        using var frame = new SKPaint
        {
            IsAntialias = true,
            Style = SKPaintStyle.Stroke,
            StrokeWidth = Math.Max(1, 0.05f * u),
            Color = new SKColor(10, 10, 10),
        };
        var rects = new List<SKRect>();
        foreach (var eye in new[] { f.LeftEye, f.RightEye })
        {
            var rect = new SKRect(eye.X - w / 2, eye.Y - 0.45f * h, eye.X + w / 2, eye.Y + 0.55f * h);
            lens.Shader = SKShader.CreateLinearGradient(
                new SKPoint(0, rect.Top),
                new SKPoint(0, rect.Bottom),
                [new SKColor((byte)(tint.Red + 40), (byte)(tint.Green + 40), (byte)(tint.Blue + 40)), tint],
                SKShaderTileMode.Clamp
            );
            canvas.DrawRoundRect(rect, 0.35f * h, 0.35f * h, lens);
            canvas.DrawRoundRect(rect, 0.35f * h, 0.35f * h, frame);
            rects.Add(rect);
        }
        canvas.DrawLine(rects[0].Right, rects[0].MidY - 0.2f * h, rects[1].Left, rects[1].MidY - 0.2f * h, frame);
        canvas.DrawLine(rects[0].Left, rects[0].MidY - 0.2f * h, f[0].X, f[0].Y, frame);
        canvas.DrawLine(rects[1].Right, rects[1].MidY - 0.2f * h, f[16].X, f[16].Y, frame);
    }
}
