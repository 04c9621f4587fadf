using FaceDistill.Data;
using static TorchSharp.torch;

namespace FaceDistill.Faces.Zoo;

/// <summary>How a face-api net normalises its RGB input (face-api spec, ../shared/reference/faceapi/SPEC.md
/// §0.4).</summary>
public enum ZooNormalization
{
    /// <summary><c>(x − [122.782, 117.001, 104.298]) / 255</c>: recognition, landmarks, expression,
    /// age/gender.</summary>
    FaceMean,

    /// <summary><c>(x − [117.001, 114.697, 97.404]) / 255</c>: tiny face detector.</summary>
    TinyDetectorMean,

    /// <summary><c>x / 127.5 − 1</c>: SSD MobileNetV1.</summary>
    Ssd,
}

/// <summary>face-api's <c>NetInput.toBatchTensor(inputSize, isCenter)</c> (face-api spec,
/// ../shared/reference/faceapi/SPEC.md §0.4), reproduced exactly:
/// <list type="number">
/// <item>pad to a square at the original resolution with value 0 — centred (<c>after = round(diff/2)</c>, JS rounding,
/// the odd pixel after) or all at the bottom/right;</item>
/// <item>if the square is not <c>S×S</c>, TF's legacy bilinear resize (<c>alignCorners = halfPixelCenters = false</c>):
/// <c>src = dst·in/out</c>, <c>y0 = ⌊src⌋</c>, <c>y1 = min(in−1, ⌈src⌉)</c>, interpolated along x then y in double and
/// stored as float32 — neither of torch's <c>interpolate</c> modes;</item>
/// <item>the per-net normalisation, in float32, channel order R, G, B.</item>
/// </list>
/// The padding is never materialised: samples outside the image read 0.</summary>
public static class NetInput
{
    /// <summary>The padded, resized image as float HWC (0..255 values), <c>size × size × 3</c>.</summary>
    public static float[] PadResize(RgbImage img, int size, bool centered)
    {
        int w = img.Width,
            h = img.Height,
            s = Math.Max(w, h);
        int diff = Math.Abs(h - w);
        int before = centered ? diff - JsRound(diff * 0.5) : 0;
        int ox = w < h ? before : 0,
            oy = h < w ? before : 0;
        var px = img.Pixels;
        var outp = new float[size * size * 3];
        if (s == size)
        {
            for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                outp[((y + oy) * size + x + ox) * 3 + c] = px[(y * w + x) * 3 + c];
            return outp;
        }
        double ratio = s / (double)size;
        var c0 = new int[size];
        var c1 = new int[size];
        var cf = new double[size];
        for (int i = 0; i < size; i++)
        {
            double src = ratio * i;
            c0[i] = Math.Max(0, (int)Math.Floor(src));
            c1[i] = Math.Min(s - 1, (int)Math.Ceiling(src));
            cf[i] = src - c0[i];
        }
        // Pixel of the padded square, or 0 outside the image.
        double At(int sy, int sx, int c)
        {
            int y = sy - oy,
                x = sx - ox;
            return (uint)y < (uint)h && (uint)x < (uint)w ? px[(y * w + x) * 3 + c] : 0.0;
        }
        for (int r = 0; r < size; r++)
        {
            int r0 = c0[r],
                r1 = c1[r];
            double rf = cf[r];
            for (int col = 0; col < size; col++)
            {
                int x0 = c0[col],
                    x1 = c1[col];
                double xf = cf[col];
                for (int c = 0; c < 3; c++)
                {
                    double tl = At(r0, x0, c),
                        tr = At(r0, x1, c),
                        bl = At(r1, x0, c),
                        br = At(r1, x1, c);
                    double top = tl + (tr - tl) * xf,
                        bottom = bl + (br - bl) * xf;
                    outp[(r * size + col) * 3 + c] = (float)(top + (bottom - top) * rf);
                }
            }
        }
        return outp;
    }

    /// <summary>A batch <c>[N, 3, S, S]</c> of normalised inputs from float HWC images of side <paramref
    /// name="size"/>.</summary>
    public static Tensor ToBatch(IReadOnlyList<float[]> hwcImages, int size, ZooNormalization norm)
    {
        int plane = size * size;
        var data = new float[hwcImages.Count * 3 * plane];
        var mean = norm switch
        {
            ZooNormalization.FaceMean => new[] { 122.782f, 117.001f, 104.298f },
            ZooNormalization.TinyDetectorMean => new[] { 117.001f, 114.697f, 97.404f },
            _ => new[] { 0f, 0f, 0f },
        };
        for (int n = 0; n < hwcImages.Count; n++)
        {
            var img = hwcImages[n];
            if (img.Length != plane * 3)
                throw new ArgumentException($"image {n} has {img.Length} values, expected {plane * 3}");
            int baseN = n * 3 * plane;
            for (int i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++)
            {
                float v = img[i * 3 + c];
                data[baseN + c * plane + i] = norm == ZooNormalization.Ssd ? v / 127.5f - 1f : (v - mean[c]) / 255f;
            }
        }
        return tensor(data, [hwcImages.Count, 3, size, size]);
    }

    public static Tensor ToBatch(IReadOnlyList<RgbImage> images, int size, bool centered, ZooNormalization norm) =>
        ToBatch(images.Select(i => PadResize(i, size, centered)).ToList(), size, norm);

    /// <summary>JavaScript <c>Math.round</c>: halves round up (C#'s default rounds them to even).</summary>
    public static int JsRound(double v) => (int)Math.Floor(v + 0.5);
}
