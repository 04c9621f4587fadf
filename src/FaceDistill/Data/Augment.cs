using FaceDistill.Config;

namespace FaceDistill.Data;

/// <summary>Augmentation settings (all off = deterministic preprocessing).</summary>
public sealed record AugmentOptions
{
    /// <summary>Horizontal flip with probability 1/2.</summary>
    public bool Flip { get; init; }

    /// <summary>Random crop side as a fraction of the (center-cropped) face, uniform in [ScaleMin, ScaleMax].</summary>
    public double ScaleMin { get; init; } = 1.0;
    public double ScaleMax { get; init; } = 1.0;

    /// <summary>Random shift of the crop centre, as a fraction of the crop side.</summary>
    public double Shift { get; init; }

    /// <summary>Colour jitter strengths: factors uniform in [1-s, 1+s].</summary>
    public double Brightness { get; init; }
    public double Contrast { get; init; }
    public double Saturation { get; init; }

    public static readonly AugmentOptions None = new();

    /// <summary>The augmentation a config asks for (<c>data.augment</c>).</summary>
    public static AugmentOptions From(AugmentConfig a) =>
        new()
        {
            Flip = a.Flip,
            ScaleMin = a.ScaleMin,
            ScaleMax = a.ScaleMax,
            Shift = a.Shift,
            Brightness = a.Brightness,
            Contrast = a.Contrast,
            Saturation = a.Saturation,
        };

    public bool IsIdentity =>
        !Flip && ScaleMin == 1 && ScaleMax == 1 && Shift == 0 && Brightness == 0 && Contrast == 0 && Saturation == 0;
}

/// <summary>
/// Turns an <see cref="RgbImage"/> into the network's input: a square crop (centre crop × random scale and shift),
/// bilinear resampling to <c>size × size</c>, optional flip and colour jitter, all in one pass, written as CHW floats
/// normalised to [-1, 1] ((x/255 − 0.5)/0.5, the ArcFace convention).
/// </summary>
public static class Augment
{
    public static void ToTensorData(
        RgbImage img,
        int size,
        double centerCrop,
        AugmentOptions opt,
        Random? rng,
        Span<float> dst
    )
    {
        if (dst.Length != 3 * size * size)
            throw new ArgumentException("destination has the wrong length");
        double baseSide = Math.Min(img.Width, img.Height) * centerCrop;
        double scale = 1,
            dx = 0,
            dy = 0,
            bright = 1,
            contrast = 1,
            sat = 1;
        bool flip = false;
        if (rng is not null)
        {
            scale = opt.ScaleMin + (opt.ScaleMax - opt.ScaleMin) * rng.NextDouble();
            dx = opt.Shift * (2 * rng.NextDouble() - 1);
            dy = opt.Shift * (2 * rng.NextDouble() - 1);
            flip = opt.Flip && rng.NextDouble() < 0.5;
            bright = 1 + opt.Brightness * (2 * rng.NextDouble() - 1);
            contrast = 1 + opt.Contrast * (2 * rng.NextDouble() - 1);
            sat = 1 + opt.Saturation * (2 * rng.NextDouble() - 1);
        }
        double side = baseSide * scale;
        double cx = img.Width / 2.0 + dx * side,
            cy = img.Height / 2.0 + dy * side;
        double step = side / size;
        double x0 = cx - side / 2,
            y0 = cy - side / 2;
        int plane = size * size;
        var px = img.Pixels;
        int w = img.Width,
            h = img.Height;
        bool jitter = bright != 1 || contrast != 1 || sat != 1;
        // the mean gray level for contrast (computed on the source, cheaply subsampled)
        double mean = 0.5;
        if (contrast != 1)
        {
            long sum = 0;
            int n = 0;
            for (int i = 0; i < px.Length; i += 3 * 7)
            {
                sum += px[i] + px[i + 1] + px[i + 2];
                n += 3;
            }
            mean = sum / (255.0 * n);
        }
        for (int y = 0; y < size; y++)
        {
            double sy = y0 + (y + 0.5) * step - 0.5;
            int iy = (int)Math.Floor(sy);
            float fy = (float)(sy - iy);
            int y1 = Math.Clamp(iy, 0, h - 1),
                y2 = Math.Clamp(iy + 1, 0, h - 1);
            for (int x = 0; x < size; x++)
            {
                int ox = flip ? size - 1 - x : x;
                double sx = x0 + (x + 0.5) * step - 0.5;
                int ix = (int)Math.Floor(sx);
                float fx = (float)(sx - ix);
                int x1 = Math.Clamp(ix, 0, w - 1),
                    x2 = Math.Clamp(ix + 1, 0, w - 1);
                int a = (y1 * w + x1) * 3,
                    b = (y1 * w + x2) * 3,
                    c = (y2 * w + x1) * 3,
                    d = (y2 * w + x2) * 3;
                float r = 0,
                    g = 0,
                    bl = 0;
                for (int ch = 0; ch < 3; ch++)
                {
                    float top = px[a + ch] + (px[b + ch] - px[a + ch]) * fx;
                    float bot = px[c + ch] + (px[d + ch] - px[c + ch]) * fx;
                    float v = (top + (bot - top) * fy) / 255f;
                    if (ch == 0)
                        r = v;
                    else if (ch == 1)
                        g = v;
                    else
                        bl = v;
                }
                if (jitter)
                {
                    r *= (float)bright;
                    g *= (float)bright;
                    bl *= (float)bright;
                    float gray = 0.299f * r + 0.587f * g + 0.114f * bl;
                    r = gray + (r - gray) * (float)sat;
                    g = gray + (g - gray) * (float)sat;
                    bl = gray + (bl - gray) * (float)sat;
                    float m = (float)mean;
                    r = m + (r - m) * (float)contrast;
                    g = m + (g - m) * (float)contrast;
                    bl = m + (bl - m) * (float)contrast;
                    r = Math.Clamp(r, 0f, 1f);
                    g = Math.Clamp(g, 0f, 1f);
                    bl = Math.Clamp(bl, 0f, 1f);
                }
                int o = y * size + ox;
                dst[o] = (r - 0.5f) * 2f;
                dst[plane + o] = (g - 0.5f) * 2f;
                dst[2 * plane + o] = (bl - 0.5f) * 2f;
            }
        }
    }
}
