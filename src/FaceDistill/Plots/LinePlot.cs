using SkiaSharp;

namespace FaceDistill.Plots;

/// <summary>A small line-chart renderer (SkiaSharp): axes with ticks, several named series, optional log-x. Enough for
/// ROC curves, loss curves and histograms, without a plotting dependency that would pin another SkiaSharp.</summary>
public sealed class LinePlot(string title, string xLabel, string yLabel)
{
    private readonly List<(string Name, double[] X, double[] Y, SKColor Color)> _series = [];
    private static readonly SKColor[] Palette =
    [
        new(31, 119, 180),
        new(255, 127, 14),
        new(44, 160, 44),
        new(214, 39, 40),
        new(148, 103, 189),
        new(140, 86, 75),
    ];

    public bool LogX { get; init; }
    public (double Min, double Max)? XRange { get; init; }
    public (double Min, double Max)? YRange { get; init; }

    public LinePlot Add(string name, IEnumerable<double> x, IEnumerable<double> y)
    {
        _series.Add((name, x.ToArray(), y.ToArray(), Palette[_series.Count % Palette.Length]));
        return this;
    }

    public void Save(string path, int width = 640, int height = 480)
    {
        using var bmp = new SKBitmap(width, height);
        using var c = new SKCanvas(bmp);
        c.Clear(SKColors.White);
        float left = 70,
            right = width - 20,
            top = 40,
            bottom = height - 55;
        double Tx(double x) => LogX ? Math.Log10(Math.Max(x, 1e-12)) : x;
        var xs = _series.SelectMany(s => s.X).Where(double.IsFinite).Select(Tx).ToArray();
        var ys = _series.SelectMany(s => s.Y).Where(double.IsFinite).ToArray();
        double x0 = XRange is { } xr ? Tx(xr.Min) : xs.DefaultIfEmpty(0).Min(),
            x1 = XRange is { } xr2 ? Tx(xr2.Max) : xs.DefaultIfEmpty(1).Max();
        double y0 = YRange?.Min ?? ys.DefaultIfEmpty(0).Min(),
            y1 = YRange?.Max ?? ys.DefaultIfEmpty(1).Max();
        if (x1 <= x0)
            x1 = x0 + 1;
        if (y1 <= y0)
            y1 = y0 + 1;
        float Px(double x) => (float)(left + (Tx(x) - x0) / (x1 - x0) * (right - left));
        float Py(double y) => (float)(bottom - (y - y0) / (y1 - y0) * (bottom - top));
        using var font = new SKFont(Fonts.Sans, 13);
        using var small = new SKFont(Fonts.Sans, 11);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var grid = new SKPaint { Color = new SKColor(225, 225, 225), StrokeWidth = 1 };
        using var axis = new SKPaint
        {
            Color = SKColors.Black,
            StrokeWidth = 1.2f,
            Style = SKPaintStyle.Stroke,
        };
        // x ticks: decades on a log axis, five even steps otherwise
        var xticks = LogX
            ? Enumerable
                .Range(
                    (int)Math.Ceiling(x0 - 1e-9),
                    Math.Max(1, (int)Math.Floor(x1 + 1e-9) - (int)Math.Ceiling(x0 - 1e-9) + 1)
                )
                .Select(e => (double)e)
                .ToArray()
            : Enumerable.Range(0, 6).Select(i => x0 + (x1 - x0) * i / 5).ToArray();
        foreach (var gx in xticks)
        {
            float px = (float)(left + (gx - x0) / (x1 - x0) * (right - left));
            c.DrawLine(px, top, px, bottom, grid);
            string lx = LogX ? (gx == 0 ? "1" : $"1e{gx:0}") : $"{gx:G3}";
            c.DrawText(lx, px, bottom + 16, SKTextAlign.Center, small, ink);
        }
        for (int i = 0; i <= 5; i++)
        {
            double gy = y0 + (y1 - y0) * i / 5;
            float py = (float)(bottom - (bottom - top) * i / 5);
            c.DrawLine(left, py, right, py, grid);
            c.DrawText($"{gy:G3}", left - 6, py + 4, SKTextAlign.Right, small, ink);
        }
        c.DrawRect(left, top, right - left, bottom - top, axis);
        c.DrawText(title, width / 2f, 24, SKTextAlign.Center, font, ink);
        c.DrawText(xLabel, (left + right) / 2, height - 18, SKTextAlign.Center, font, ink);
        c.Save();
        c.RotateDegrees(-90, 18, (top + bottom) / 2);
        c.DrawText(yLabel, 18, (top + bottom) / 2, SKTextAlign.Center, font, ink);
        c.Restore();
        c.Save();
        c.ClipRect(new SKRect(left, top, right, bottom));
        foreach (var (name, x, y, color) in _series)
        {
            using var pen = new SKPaint
            {
                Color = color,
                StrokeWidth = 2,
                IsAntialias = true,
                Style = SKPaintStyle.Stroke,
            };
            using var line = new SKPath();
            bool started = false;
            for (int i = 0; i < x.Length; i++)
            {
                if (!double.IsFinite(x[i]) || !double.IsFinite(y[i]) || (LogX && x[i] <= 0))
                    continue;
                if (!started)
                {
                    line.MoveTo(Px(x[i]), Py(y[i]));
                    started = true;
                }
                else
                    line.LineTo(Px(x[i]), Py(y[i]));
            }
            c.DrawPath(line, pen);
        }
        c.Restore();
        float ly = top + 16;
        foreach (var (name, _, _, color) in _series)
        {
            using var pen = new SKPaint { Color = color, StrokeWidth = 3 };
            c.DrawLine(right - 150, ly - 4, right - 130, ly - 4, pen);
            c.DrawText(name, right - 125, ly, SKTextAlign.Left, small, ink);
            ly += 16;
        }
        BitmapFile.Save(bmp, path);
    }
}
