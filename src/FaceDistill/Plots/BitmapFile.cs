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

    /// <summary>Refuses, before any work, an output path whose extension is not what will be written into it: .png
    /// or .jpg/.jpeg for pictures, .png only for charts (<paramref name="pngOnly"/>). The error names the option.
    /// </summary>
    public static void CheckPath(string path, string what, bool pngOnly = false)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext != ".png" && (pngOnly || ext is not (".jpg" or ".jpeg")))
            throw new FaceDistillException(
                $"{what} {path}: {what} writes "
                    + (pngOnly ? "a PNG: give a .png path" : "an image: give a .png or .jpg path")
            );
    }

    /// <summary>Writes PNG bytes (a chart), atomically; a path ending in .jpg is refused (charts are PNG).</summary>
    public static void SavePng(byte[] png, string path)
    {
        if (Path.GetExtension(path).ToLowerInvariant() is ".jpg" or ".jpeg")
            throw FaceDistillException.ForFile(path, "charts are written as PNG");
        AtomicFile.WriteAllBytes(path, png);
    }
}
