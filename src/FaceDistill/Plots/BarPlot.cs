using SkiaSharp;

namespace FaceDistill.Plots;

/// <summary>Grouped bars with error bars (SkiaSharp): one group per category (method), one bar per series
/// (view).</summary>
public sealed class BarPlot(string title, string yLabel)
{
    private static readonly SKColor[] Palette =
    [
        new(31, 119, 180),
        new(255, 127, 14),
        new(44, 160, 44),
        new(214, 39, 40),
        new(148, 103, 189),
    ];

    public void Save(
        string path,
        IReadOnlyList<string> categories,
        IReadOnlyList<string> series,
        double[,] mean,
        double[,] err,
        int width = 760,
        int height = 420
    )
    {
        using var bmp = new SKBitmap(width, height);
        using var c = new SKCanvas(bmp);
        c.Clear(SKColors.White);
        float left = 70,
            right = width - 20,
            top = 50,
            bottom = height - 80;
        var values = new List<double>();
        for (int i = 0; i < categories.Count; i++)
        for (int j = 0; j < series.Count; j++)
            if (double.IsFinite(mean[i, j]))
            {
                values.Add(mean[i, j] + (double.IsFinite(err[i, j]) ? err[i, j] : 0));
                values.Add(mean[i, j] - (double.IsFinite(err[i, j]) ? err[i, j] : 0));
            }
        double lo = Math.Min(0, values.DefaultIfEmpty(0).Min()),
            hi = values.DefaultIfEmpty(1).Max();
        if (hi <= lo)
            hi = lo + 1;
        hi += 0.05 * (hi - lo);
        float Py(double y) => (float)(bottom - (y - lo) / (hi - lo) * (bottom - top));
        using var font = new SKFont(Fonts.Sans, 13);
        using var small = new SKFont(Fonts.Sans, 11);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var grid = new SKPaint { Color = new SKColor(225, 225, 225), StrokeWidth = 1 };
        for (int k = 0; k <= 5; k++)
        {
            double y = lo + (hi - lo) * k / 5;
            c.DrawLine(left, Py(y), right, Py(y), grid);
            c.DrawText(y.ToString(hi - lo < 5 ? "0.###" : "0.#"), left - 6, Py(y) + 4, SKTextAlign.Right, small, ink);
        }
        c.DrawLine(left, bottom, right, bottom, ink);
        c.DrawText(title, width / 2f, 22, SKTextAlign.Center, font, ink);
        c.Save();
        c.RotateDegrees(-90, 16, (top + bottom) / 2);
        c.DrawText(yLabel, 16, (top + bottom) / 2 + 4, SKTextAlign.Center, small, ink);
        c.Restore();
        float group = (right - left) / Math.Max(1, categories.Count),
            bar = group * 0.8f / Math.Max(1, series.Count);
        for (int i = 0; i < categories.Count; i++)
        {
            float gx = left + i * group + group * 0.1f;
            for (int j = 0; j < series.Count; j++)
            {
                if (!double.IsFinite(mean[i, j]))
                    continue;
                using var fill = new SKPaint { Color = Palette[j % Palette.Length], IsAntialias = true };
                float x = gx + j * bar;
                c.DrawRect(
                    new SKRect(x + 1, Math.Min(Py(mean[i, j]), Py(0)), x + bar - 1, Math.Max(Py(mean[i, j]), Py(0))),
                    fill
                );
                if (double.IsFinite(err[i, j]) && err[i, j] > 0)
                {
                    float cx = x + bar / 2;
                    c.DrawLine(cx, Py(mean[i, j] - err[i, j]), cx, Py(mean[i, j] + err[i, j]), ink);
                    c.DrawLine(cx - bar / 5, Py(mean[i, j] + err[i, j]), cx + bar / 5, Py(mean[i, j] + err[i, j]), ink);
                    c.DrawLine(cx - bar / 5, Py(mean[i, j] - err[i, j]), cx + bar / 5, Py(mean[i, j] - err[i, j]), ink);
                }
            }
            c.Save();
            c.RotateDegrees(-25, left + i * group + group / 2, bottom + 14);
            c.DrawText(categories[i], left + i * group + group / 2, bottom + 14, SKTextAlign.Right, small, ink);
            c.Restore();
        }
        for (int j = 0; j < series.Count; j++)
        {
            using var fill = new SKPaint { Color = Palette[j % Palette.Length] };
            float lx = left + 10 + j * 150;
            c.DrawRect(new SKRect(lx, 32, lx + 10, 42), fill);
            c.DrawText(series[j], lx + 14, 41, SKTextAlign.Left, small, ink);
        }
        using var data = bmp.Encode(SKEncodedImageFormat.Png, 100);
        Core.AtomicFile.WriteAllBytes(path, data.ToArray());
    }
}
