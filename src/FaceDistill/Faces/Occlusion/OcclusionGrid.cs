using FaceDistill.Core;
using FaceDistill.Data;
using SkiaSharp;

namespace FaceDistill.Faces.Occlusion;

/// <summary>A contact sheet: one row per face, the clean face then one column per occluder, each cell the face's region
/// (the landmarks' box grown 1.8×, square) after the occluder was drawn on the whole image.</summary>
public static class OcclusionGrid
{
    public static SKBitmap Draw(
        IReadOnlyList<(RgbImage Image, float[] Landmarks)> faces,
        IReadOnlyList<string> occluders,
        int cell = 128,
        int seed = 1
    )
    {
        var sheet = new SKBitmap((occluders.Count + 1) * cell, faces.Count * cell);
        using var canvas = new SKCanvas(sheet);
        canvas.Clear(SKColors.White);
        using var paint = new SKPaint { IsAntialias = true };
        for (int r = 0; r < faces.Count; r++)
        {
            var (img, lm) = faces[r];
            for (int c = 0; c <= occluders.Count; c++)
            {
                var shown = c == 0 ? img : Occluder.Parse(occluders[c - 1]).Apply(img, lm, Seeds.Rng(seed, r, c));
                using var bmp = ImageCodec.ToBitmap(shown);
                canvas.DrawBitmap(
                    bmp,
                    FaceRegion(lm, img.Width, img.Height),
                    new SKRect(c * cell, r * cell, (c + 1) * cell, (r + 1) * cell),
                    paint
                );
            }
        }
        return sheet;
    }

    /// <summary>A square around the landmarks' box, grown 1.8×, clipped to the image.</summary>
    public static SKRect FaceRegion(float[] lm, int width, int height)
    {
        float x0 = float.MaxValue,
            y0 = float.MaxValue,
            x1 = float.MinValue,
            y1 = float.MinValue;
        for (int i = 0; i < lm.Length / 2; i++)
        {
            x0 = Math.Min(x0, lm[2 * i]);
            x1 = Math.Max(x1, lm[2 * i]);
            y0 = Math.Min(y0, lm[2 * i + 1]);
            y1 = Math.Max(y1, lm[2 * i + 1]);
        }
        float side = Math.Min(1.8f * Math.Max(x1 - x0, y1 - y0), Math.Min(width, height));
        float cx = Math.Clamp((x0 + x1) / 2, side / 2, width - side / 2),
            cy = Math.Clamp((y0 + y1) / 2 - 0.05f * side, side / 2, height - side / 2);
        return new SKRect(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2);
    }
}
