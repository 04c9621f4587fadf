using FaceDistill.Plots;
using SkiaSharp;

namespace FaceDistill.Data;

/// <summary>Contact sheets of face images — one row per class or view, the name on the left — and the loader's pixel
/// rows turned back into images for them.</summary>
public static class ImageGrid
{
    /// <summary>A pixel row <c>[3, S, S]</c> in [−1, 1] (the loader's layout) as an image.</summary>
    public static RgbImage FromTensorData(ReadOnlySpan<float> chw, int size)
    {
        var px = new byte[size * size * 3];
        int plane = size * size;
        for (int c = 0; c < 3; c++)
        for (int i = 0; i < plane; i++)
            px[i * 3 + c] = (byte)Math.Clamp(Math.Round((chw[c * plane + i] + 1) * 127.5), 0, 255);
        return new RgbImage(size, size, px);
    }

    /// <summary>A contact sheet: one row per class (at most <paramref name="perRow"/> faces each, at
    /// <paramref name="cell"/> pixels), the class name on the left.</summary>
    public static void Write(
        string path,
        IReadOnlyList<string> classNames,
        IReadOnlyList<(Func<RgbImage> Image, int Class)> images,
        int perRow = 10,
        int cell = 48
    )
    {
        const int labelWidth = 90;
        int rows = classNames.Count;
        using var sheet = new SKBitmap(labelWidth + perRow * cell, Math.Max(1, rows) * cell);
        using var canvas = new SKCanvas(sheet);
        canvas.Clear(SKColors.White);
        using var font = new SKFont(Fonts.Sans, 13);
        using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        var used = new int[rows];
        foreach (var (image, c) in images)
        {
            if (used[c] >= perRow)
                continue;
            using var bmp = ImageCodec.ToBitmap(image());
            var dst = SKRect.Create(labelWidth + used[c]++ * cell, c * cell, cell, cell);
            canvas.DrawBitmap(bmp, dst);
        }
        for (int c = 0; c < rows; c++)
            canvas.DrawText($"{classNames[c]} ({used[c]})", 4, c * cell + cell / 2 + 5, font, paint);
        BitmapFile.Save(sheet, path);
    }
}
