using FaceDistill.Data;
using SkiaSharp;

namespace FaceDistill.Faces;

/// <summary>Draws detections (box, score, expression, age, gender) and 68 landmarks onto an image.</summary>
public static class FaceDrawing
{
    public static void Save(RgbImage image, IReadOnlyList<FaceAnalysis> faces, string path)
    {
        using var bmp = ImageCodec.ToBitmap(image);
        using (var canvas = new SKCanvas(bmp))
        {
            float stroke = Math.Max(2f, image.Width / 500f);
            using var boxPaint = new SKPaint
            {
                Color = new SKColor(0, 220, 120),
                Style = SKPaintStyle.Stroke,
                StrokeWidth = stroke,
                IsAntialias = true,
            };
            using var dotPaint = new SKPaint
            {
                Color = new SKColor(255, 70, 70),
                Style = SKPaintStyle.Fill,
                IsAntialias = true,
            };
            using var textPaint = new SKPaint { Color = SKColors.White, IsAntialias = true };
            using var bgPaint = new SKPaint { Color = new SKColor(0, 0, 0, 160) };
            using var font = new SKFont(Plots.Fonts.Sans, Math.Max(14f, image.Width / 80f));
            foreach (var f in faces)
            {
                var b = f.Detection.Box;
                canvas.DrawRect((float)b.X, (float)b.Y, (float)b.Width, (float)b.Height, boxPaint);
                foreach (var p in f.Landmarks.Points)
                    canvas.DrawCircle((float)p.X, (float)p.Y, stroke, dotPaint);
                var label = $"{f.Detection.Score:F2} {f.Expression} {f.Age:F0}y {f.Gender}";
                float w = font.MeasureText(label),
                    h = font.Size * 1.25f;
                canvas.DrawRect((float)b.X, (float)b.Y - h, w + 6, h, bgPaint);
                canvas.DrawText(label, (float)b.X + 3, (float)b.Y - h * 0.25f, font, textPaint);
            }
        }
        ImageCodec.SaveBitmap(bmp, path);
    }
}
