namespace FaceDistill.Data;

/// <summary>An 8-bit RGB image, row-major HWC. The common currency between decoders, the synthetic generator,
/// occluders and the augmenting loader.</summary>
public sealed class RgbImage
{
    public int Width { get; }
    public int Height { get; }

    /// <summary>Pixels, <c>(y * Width + x) * 3 + channel</c>.</summary>
    public byte[] Pixels { get; }

    public RgbImage(int width, int height, byte[]? pixels = null)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), $"image size {width}x{height}");
        Width = width;
        Height = height;
        Pixels = pixels ?? new byte[width * height * 3];
        if (Pixels.Length != width * height * 3)
            throw new ArgumentException($"expected {width * height * 3} bytes, got {Pixels.Length}");
    }

    public byte this[int x, int y, int c] => Pixels[(y * Width + x) * 3 + c];

    /// <summary>A copy of the rectangle (x, y, w, h), which must lie inside the image.</summary>
    public RgbImage Crop(int x, int y, int w, int h)
    {
        if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > Width || y + h > Height)
            throw new ArgumentOutOfRangeException(
                nameof(x),
                $"crop ({x},{y},{w},{h}) outside a {Width}x{Height} image"
            );
        var px = new byte[w * h * 3];
        for (int r = 0; r < h; r++)
            Array.Copy(Pixels, ((y + r) * Width + x) * 3, px, r * w * 3, w * 3);
        return new RgbImage(w, h, px);
    }
}
