using FaceDistill.Core;
using SkiaSharp;

namespace FaceDistill.Data;

/// <summary>Decodes and encodes images with SkiaSharp. Gray, RGB and RGBA (alpha composited over black) all load as
/// <see cref="RgbImage"/>; a missing, truncated or corrupt file is a <see cref="FaceDistillException"/> naming
/// it.</summary>
public static class ImageCodec
{
    /// <summary>The largest image decoded, in pixels (width × height), checked on the header before any pixel memory
    /// is allocated: a 30,000 × 30,000 PNG of a few kilobytes (a decompression bomb) is refused naming the file, never
    /// decoded. 100 megapixels by default (a 10,000 × 10,000 photo); <c>FACEDISTILL_MAX_PIXELS</c> changes
    /// it.</summary>
    public static long MaxPixels { get; set; } =
        long.TryParse(Environment.GetEnvironmentVariable("FACEDISTILL_MAX_PIXELS"), out var max) && max > 0
            ? max
            : 100_000_000;

    /// <summary>Refuses a header that claims more than <see cref="MaxPixels"/>.</summary>
    public static void CheckSize(long width, long height, string nameForErrors)
    {
        if (width <= 0 || height <= 0)
            throw FaceDistillException.ForFile(nameForErrors, $"image header claims {width}×{height} pixels");
        if (width * height > MaxPixels)
            throw FaceDistillException.ForFile(
                nameForErrors,
                $"image header claims {width}×{height} pixels, more than the limit of {MaxPixels:N0} "
                    + "(FACEDISTILL_MAX_PIXELS); not decoded"
            );
    }

    public static RgbImage Load(string path)
    {
        if (!File.Exists(path))
            throw FaceDistillException.ForFile(path, "image file not found");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException e)
        {
            throw FaceDistillException.ForFile(path, $"cannot read image ({e.Message})");
        }
        return Decode(bytes, path);
    }

    /// <summary>Binary (P5) and plain (P2) 8-bit PGM, which Skia does not read (the ORL faces are PGM).</summary>
    public static RgbImage DecodePgm(byte[] bytes, string nameForErrors)
    {
        int pos = 0;
        string Token()
        {
            while (pos < bytes.Length)
            {
                if (bytes[pos] == '#')
                {
                    while (pos < bytes.Length && bytes[pos] != '\n')
                        pos++;
                }
                else if (char.IsWhiteSpace((char)bytes[pos]))
                    pos++;
                else
                    break;
            }
            int start = pos;
            while (pos < bytes.Length && !char.IsWhiteSpace((char)bytes[pos]))
                pos++;
            return System.Text.Encoding.ASCII.GetString(bytes, start, pos - start);
        }
        var magic = Token();
        if (magic is not ("P5" or "P2"))
            throw FaceDistillException.ForFile(nameForErrors, "not a PGM image (bad magic number)");
        if (
            !int.TryParse(Token(), out var w)
            || !int.TryParse(Token(), out var h)
            || !int.TryParse(Token(), out var max)
            || w <= 0
            || h <= 0
            || max is <= 0 or > 255
        )
            throw FaceDistillException.ForFile(nameForErrors, "malformed PGM header (only 8-bit PGM is supported)");
        CheckSize(w, h, nameForErrors);
        if (magic == "P5" && bytes.Length - pos - 1 < (long)w * h)
            throw FaceDistillException.ForFile(nameForErrors, "image data is truncated");
        var img = new RgbImage(w, h);
        if (magic == "P5")
        {
            pos++;
            if (bytes.Length - pos < w * h)
                throw FaceDistillException.ForFile(nameForErrors, "image data is truncated");
            for (int i = 0; i < w * h; i++)
            {
                byte v = (byte)(bytes[pos + i] * 255 / max);
                img.Pixels[3 * i] = img.Pixels[3 * i + 1] = img.Pixels[3 * i + 2] = v;
            }
        }
        else
        {
            for (int i = 0; i < w * h; i++)
            {
                if (!int.TryParse(Token(), out var v))
                    throw FaceDistillException.ForFile(nameForErrors, "image data is truncated");
                img.Pixels[3 * i] =
                    img.Pixels[3 * i + 1] =
                    img.Pixels[3 * i + 2] =
                        (byte)(Math.Clamp(v, 0, max) * 255 / max);
            }
        }
        return img;
    }

    /// <summary>Decodes by content, whatever the name says: PGM (magic <c>P5</c> or <c>P2</c>) here, every other format
    /// by Skia (JPEG, PNG, GIF, WebP, BMP, …).</summary>
    public static RgbImage Decode(byte[] bytes, string nameForErrors)
    {
        if (bytes.Length == 0)
            throw FaceDistillException.ForFile(nameForErrors, "image file is empty");
        if (bytes.Length >= 3 && bytes[0] == 'P' && bytes[1] is (byte)'5' or (byte)'2' && IsSpace(bytes[2]))
            return DecodePgm(bytes, nameForErrors);
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data);
        if (codec is null)
            throw FaceDistillException.ForFile(nameForErrors, "not a decodable image (corrupt or unsupported format)");
        CheckSize(codec.Info.Width, codec.Info.Height, nameForErrors);
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bmp = new SKBitmap(info);
        var result = codec.GetPixels(info, bmp.GetPixels());
        if (result != SKCodecResult.Success)
            throw FaceDistillException.ForFile(
                nameForErrors,
                result == SKCodecResult.IncompleteInput
                    ? "image data is truncated"
                    : $"image could not be decoded ({result})"
            );
        return FromBitmap(bmp);
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t';

    /// <summary>Copies an SKBitmap (any colour type) into RGB, compositing alpha over black.</summary>
    public static RgbImage FromBitmap(SKBitmap source)
    {
        SKBitmap bmp = source;
        bool owned = false;
        if (source.ColorType != SKColorType.Rgba8888 || source.AlphaType == SKAlphaType.Premul)
        {
            bmp = new SKBitmap(
                new SKImageInfo(source.Width, source.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul)
            );
            if (!source.CopyTo(bmp, SKColorType.Rgba8888))
            {
                using var canvas = new SKCanvas(bmp);
                canvas.Clear(SKColors.Black);
                canvas.DrawBitmap(source, 0, 0);
            }
            owned = true;
        }
        try
        {
            var img = new RgbImage(bmp.Width, bmp.Height);
            var src = bmp.GetPixelSpan();
            var dst = img.Pixels;
            for (int i = 0, j = 0; j < dst.Length; i += 4, j += 3)
            {
                int a = src[i + 3];
                if (a == 255)
                {
                    dst[j] = src[i];
                    dst[j + 1] = src[i + 1];
                    dst[j + 2] = src[i + 2];
                }
                else
                {
                    dst[j] = (byte)(src[i] * a / 255);
                    dst[j + 1] = (byte)(src[i + 1] * a / 255);
                    dst[j + 2] = (byte)(src[i + 2] * a / 255);
                }
            }
            return img;
        }
        finally
        {
            if (owned)
                bmp.Dispose();
        }
    }

    public static SKBitmap ToBitmap(RgbImage img)
    {
        var bmp = new SKBitmap(new SKImageInfo(img.Width, img.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var dst = bmp.GetPixelSpan();
        var src = img.Pixels;
        for (int i = 0, j = 0; j < src.Length; i += 4, j += 3)
        {
            dst[i] = src[j];
            dst[i + 1] = src[j + 1];
            dst[i + 2] = src[j + 2];
            dst[i + 3] = 255;
        }
        return bmp;
    }

    /// <summary>Writes PNG or JPEG (by extension) atomically.</summary>
    public static void Save(RgbImage img, string path, int jpegQuality = 92)
    {
        using var bmp = ToBitmap(img);
        SaveBitmap(bmp, path, jpegQuality);
    }

    public static void SaveBitmap(SKBitmap bmp, string path, int jpegQuality = 92) =>
        Plots.BitmapFile.Save(bmp, path, jpegQuality);

    public static readonly string[] Extensions = [".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".pgm"];

    public static bool IsImagePath(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());
}
