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

    /// <summary>A copy grown by <paramref name="border"/> pixels on every side, each new pixel the nearest edge pixel
    /// (detectors miss a face that fills the whole frame; the same face with a border is found).</summary>
    public RgbImage PadEdge(int border)
    {
        if (border < 0)
            throw new ArgumentOutOfRangeException(nameof(border), $"border {border}");
        int w = Width + 2 * border,
            h = Height + 2 * border;
        var px = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
        {
            int sy = Math.Clamp(y - border, 0, Height - 1);
            for (int x = 0; x < w; x++)
            {
                int s = (sy * Width + Math.Clamp(x - border, 0, Width - 1)) * 3,
                    d = (y * w + x) * 3;
                px[d] = Pixels[s];
                px[d + 1] = Pixels[s + 1];
                px[d + 2] = Pixels[s + 2];
            }
        }
        return new RgbImage(w, h, px);
    }
}
