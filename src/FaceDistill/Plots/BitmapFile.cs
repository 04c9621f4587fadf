using FaceDistill.Core;
using SkiaSharp;

namespace FaceDistill.Plots;

/// <summary>Writes a bitmap as PNG or JPEG (by extension), atomically.</summary>
public static class BitmapFile
{
    public static void Save(SKBitmap bmp, string path, int jpegQuality = 92)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        var format = ext is ".jpg" or ".jpeg" ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png;
        using var image = SKImage.FromBitmap(bmp);
        using var data =
            image.Encode(format, jpegQuality) ?? throw FaceDistillException.ForFile(path, "image encoding failed");
        AtomicFile.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>Writes PNG bytes (a chart), atomically; a path ending in .jpg is refused (charts are PNG).</summary>
    public static void SavePng(byte[] png, string path)
    {
        if (Path.GetExtension(path).ToLowerInvariant() is ".jpg" or ".jpeg")
            throw FaceDistillException.ForFile(path, "charts are written as PNG");
        AtomicFile.WriteAllBytes(path, png);
    }
}
