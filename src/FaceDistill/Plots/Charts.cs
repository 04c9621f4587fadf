namespace FaceDistill.Plots;

/// <summary>One line of a chart: a name and its points.</summary>
public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y);

/// <summary>
/// Charts for the HTML reports, drawn by ScottPlot 5 (a maintained plotting library) as PNG bytes: line charts
/// (training curves, ROC), overlaid histograms (similarities of same and different pairs) and grouped bars (an
/// experiment's results).
/// </summary>
public static class Charts
{
    public const int Width = 520,
        Height = 320;

    private static byte[] Png(ScottPlot.Plot plot, int width = Width, int height = Height)
    {
        try
        {
            return plot.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
        }
        finally
        {
            plot.Dispose();
        }
    }

    private const string FontName = "FaceDistill Sans";

    /// <summary>ScottPlot asks SkiaSharp for fonts by family name, which the dependency-free Linux build cannot
    /// resolve (no fontconfig: no text at all); the plots' font file is registered under a name of its own
    /// instead.</summary>
    private static readonly Lazy<bool> FontRegistered = new(() =>
    {
        if (Fonts.SansPath is null)
            return false;
        ScottPlot.Fonts.AddFontFile(FontName, Fonts.SansPath);
        return true;
    });

    private static ScottPlot.Plot New(string title, string x, string y)
    {
        var plot = new ScottPlot.Plot();
        if (FontRegistered.Value)
            plot.Font.Set(FontName);
        plot.Title(title);
        plot.XLabel(x);
        plot.YLabel(y);
        return plot;
    }

    public static byte[] Lines(
        string title,
        string x,
        string y,
        IEnumerable<Series> series,
        bool logX = false,
        (double Min, double Max)? xRange = null,
        (double Min, double Max)? yRange = null,
        int width = Width,
        int height = Height
    )
    {
        var plot = New(title, x, y);
        int n = 0;
        foreach (var s in series.Where(s => s.X.Count > 0))
        {
            var xs = s.X.Select(v => logX ? Math.Log10(Math.Max(v, 1e-6)) : v).ToArray();
            var line = plot.Add.Scatter(xs, s.Y.ToArray());
            line.LegendText = s.Name;
            line.MarkerSize = s.X.Count > 40 ? 0 : 4;
            n++;
        }
        if (logX)
            plot.Axes.Bottom.Label.Text = $"{x} (log10)";
        if (xRange is { } xr)
            plot.Axes.SetLimitsX(
                logX ? Math.Log10(Math.Max(xr.Min, 1e-6)) : xr.Min,
                logX ? Math.Log10(xr.Max) : xr.Max
            );
        if (yRange is { } yr)
            plot.Axes.SetLimitsY(yr.Min, yr.Max);
        if (n > 1)
            plot.ShowLegend();
        return Png(plot, width, height);
    }

    /// <summary>Histograms of several samples on shared bins over [<paramref name="min"/>, <paramref name="max"/>],
    /// each normalised to a density.</summary>
    public static byte[] Histograms(
        string title,
        string x,
        IEnumerable<(string Name, IReadOnlyList<double> Values)> samples,
        double min,
        double max,
        int bins = 50
    )
    {
        var plot = New(title, x, "density");
        double width = (max - min) / bins;
        foreach (var (name, values) in samples.Where(s => s.Values.Count > 0))
        {
            var counts = new double[bins];
            foreach (var v in values)
                counts[Math.Clamp((int)((v - min) / width), 0, bins - 1)]++;
            var xs = Enumerable.Range(0, bins).Select(i => min + (i + 0.5) * width).ToArray();
            var density = counts.Select(c => c / (values.Count * width)).ToArray();
            var line = plot.Add.ScatterLine(xs, density);
            line.LegendText = $"{name} ({values.Count})";
            line.FillY = true;
            line.FillYColor = line.Color.WithAlpha(0.25);
        }
        plot.ShowLegend();
        return Png(plot);
    }

    /// <summary>Category labels that would not fit side by side are drawn at 45°, ending at their tick, with the
    /// bottom and left panels made tall and wide enough for the longest (estimated from its length: 0.55 em per
    /// character), so no label is cut off at the image's edge. Returns the height the labels add below the axis (the
    /// caller makes the image that much taller, so the bars keep their room).</summary>
    private static int RotateLongLabels(ScottPlot.Plot plot, IReadOnlyList<string> groups)
    {
        var style = plot.Axes.Bottom.TickLabelStyle;
        int longest = groups.Count == 0 ? 0 : groups.Max(g => g.Length);
        if (groups.Count <= 4 && longest <= 12)
        {
            style.Alignment = ScottPlot.Alignment.UpperCenter;
            return 0;
        }
        style.Rotation = -45;
        style.Alignment = ScottPlot.Alignment.MiddleRight;
        double Slant(int chars) => 0.55 * style.FontSize * chars * Math.Sqrt(0.5);
        double slant = Slant(longest);
        plot.Axes.Bottom.MinimumSize = (float)(slant + style.FontSize + 12);
        // only the first label reaches left of the data area
        plot.Axes.Left.MinimumSize = (float)Math.Max(plot.Axes.Left.MinimumSize, Slant(groups[0].Length));
        return (int)slant;
    }

    /// <summary>Grouped bars: one group per row label, one bar per column (with ± error).</summary>
    public static byte[] Bars(
        string title,
        string y,
        IReadOnlyList<string> groups,
        IReadOnlyList<string> columns,
        double[,] values,
        double[,] errors,
        int width = Width,
        int height = Height
    )
    {
        var plot = New(title, "", y);
        var palette = new ScottPlot.Palettes.Category10();
        var bars = new List<ScottPlot.Bar>();
        int k = columns.Count;
        for (int g = 0; g < groups.Count; g++)
        for (int c = 0; c < k; c++)
            if (double.IsFinite(values[g, c]))
                bars.Add(
                    new ScottPlot.Bar
                    {
                        Position = g * (k + 1) + c,
                        Value = values[g, c],
                        Error = double.IsFinite(errors[g, c]) ? errors[g, c] : 0,
                        FillColor = palette.GetColor(c),
                    }
                );
        plot.Add.Bars(bars);
        var ticks = groups.Select((name, g) => new ScottPlot.Tick(g * (k + 1) + (k - 1) / 2.0, name)).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        int below = RotateLongLabels(plot, groups);
        for (int c = 0; c < k; c++)
            plot.Legend.ManualItems.Add(
                new ScottPlot.LegendItem { LabelText = columns[c], FillColor = palette.GetColor(c) }
            );
        if (k > 1)
            plot.ShowLegend();
        plot.Axes.Margins(bottom: 0);
        return Png(plot, width, height + below);
    }
}
