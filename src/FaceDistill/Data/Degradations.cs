namespace FaceDistill.Data;

/// <summary>
/// Image degradations that make "hard" views of a face (Distribution Distillation Loss's hard samples; occlusion comes
/// with the occluders). Parsed from view names: <c>lowres:16</c> = down to 16 px on the shorter side and back up.
/// </summary>
public static class Degradations
{
    public static FaceView View(string name)
    {
        var parts = name.Split(':');
        return parts[0] switch
        {
            "lowres" when parts.Length == 2 && int.TryParse(parts[1], out var s) && s >= 4 => new FaceView(
                name,
                (img, _, _) => LowResolution(img, s)
            ),
            _ => throw new Core.FaceDistillException($"unknown view '{name}' (expected lowres:<pixels>, at least 4)"),
        };
    }

    /// <summary>Area-averaged down to <paramref name="size"/> px on the shorter side, then bilinear back to the
    /// original size.</summary>
    public static RgbImage LowResolution(RgbImage img, int size)
    {
        double f = (double)Math.Min(img.Width, img.Height) / size;
        if (f <= 1)
            return img;
        int sw = Math.Max(1, (int)Math.Round(img.Width / f)),
            sh = Math.Max(1, (int)Math.Round(img.Height / f));
        var small = new float[sw * sh * 3];
        var px = img.Pixels;
        for (int y = 0; y < sh; y++)
        {
            int y0 = y * img.Height / sh,
                y1 = Math.Max(y0 + 1, (y + 1) * img.Height / sh);
            for (int x = 0; x < sw; x++)
            {
                int x0 = x * img.Width / sw,
                    x1 = Math.Max(x0 + 1, (x + 1) * img.Width / sw);
                for (int c = 0; c < 3; c++)
                {
                    double sum = 0;
                    for (int yy = y0; yy < y1; yy++)
                    for (int xx = x0; xx < x1; xx++)
                        sum += px[(yy * img.Width + xx) * 3 + c];
                    small[(y * sw + x) * 3 + c] = (float)(sum / ((y1 - y0) * (x1 - x0)));
                }
            }
        }
        var result = new RgbImage(img.Width, img.Height);
        for (int y = 0; y < img.Height; y++)
        {
            double sy = Math.Clamp((y + 0.5) * sh / img.Height - 0.5, 0, sh - 1);
            int iy = Math.Min((int)sy, sh - 1),
                iy2 = Math.Min(iy + 1, sh - 1);
            double fy = sy - iy;
            for (int x = 0; x < img.Width; x++)
            {
                double sx = Math.Clamp((x + 0.5) * sw / img.Width - 0.5, 0, sw - 1);
                int ix = Math.Min((int)sx, sw - 1),
                    ix2 = Math.Min(ix + 1, sw - 1);
                double fx = sx - ix;
                for (int c = 0; c < 3; c++)
                {
                    double top = small[(iy * sw + ix) * 3 + c] * (1 - fx) + small[(iy * sw + ix2) * 3 + c] * fx;
                    double bot = small[(iy2 * sw + ix) * 3 + c] * (1 - fx) + small[(iy2 * sw + ix2) * 3 + c] * fx;
                    result.Pixels[(y * img.Width + x) * 3 + c] = (byte)
                        Math.Clamp(Math.Round(top * (1 - fy) + bot * fy), 0, 255);
                }
            }
        }
        return result;
    }
}
