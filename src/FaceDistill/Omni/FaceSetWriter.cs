using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Plots;
using SkiaSharp;

namespace FaceDistill.Omni;

/// <summary>Writes a mined, condensed or selected set as an ordinary dataset — <c>&lt;class&gt;/&lt;n&gt;.png</c>
/// (class = folder, what <c>data.source: folder</c> and <c>data.extra</c> read) — and a contact sheet with one row per
/// class.</summary>
public static class FaceSetWriter
{
    /// <summary>Writes <paramref name="images"/> (each with its class) into <paramref name="dir"/>, which must not
    /// exist yet; built under a temporary name and renamed, so a half-written set is never read.</summary>
    public static void Write(
        string dir,
        IReadOnlyList<string> classNames,
        IReadOnlyList<(Func<RgbImage> Image, int Class)> images,
        Action<string>? extra = null,
        string label = "write set"
    )
    {
        if (Directory.Exists(dir))
            throw FaceDistillException.ForFile(dir, "exists already (remove it to write the set again)");
        AtomicFile.WriteDirectory(
            dir,
            tmp =>
            {
                foreach (var name in classNames)
                    Directory.CreateDirectory(Path.Combine(tmp, name));
                var files = RelativePaths(classNames, images.Select(im => im.Class));
                using var bar = Progress.Start(label, images.Count);
                for (int i = 0; i < images.Count; i++)
                {
                    ImageCodec.Save(images[i].Image(), Path.Combine(tmp, files[i]));
                    bar.Update(i + 1);
                }
                extra?.Invoke(tmp);
            }
        );
    }

    /// <summary>Where <see cref="Write"/> puts each image, relative to the set's folder ('/'-separated): the k-th
    /// image of class c is <c>&lt;class c&gt;/&lt;k, 5 digits&gt;.png</c>.</summary>
    public static IReadOnlyList<string> RelativePaths(IReadOnlyList<string> classNames, IEnumerable<int> classes)
    {
        var next = new int[classNames.Count];
        return classes.Select(c => $"{classNames[c]}/{next[c]++:D5}.png").ToList();
    }

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
    public static void Grid(
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
