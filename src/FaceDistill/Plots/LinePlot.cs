namespace FaceDistill.Plots;

/// <summary>A line chart written to a PNG file (ROC curves, loss curves, histograms as lines), drawn by ScottPlot
/// through <see cref="Charts"/>: several named series, optional log-x and fixed axis ranges.</summary>
public sealed class LinePlot(string title, string xLabel, string yLabel)
{
    private readonly List<Series> _series = [];

    public bool LogX { get; init; }
    public (double Min, double Max)? XRange { get; init; }
    public (double Min, double Max)? YRange { get; init; }

    public LinePlot Add(string name, IEnumerable<double> x, IEnumerable<double> y)
    {
        var (xs, ys) = (x.ToArray(), y.ToArray());
        var keep = Enumerable
            .Range(0, Math.Min(xs.Length, ys.Length))
            .Where(i => double.IsFinite(xs[i]) && double.IsFinite(ys[i]) && (!LogX || xs[i] > 0))
            .ToArray();
        _series.Add(new Series(name, keep.Select(i => xs[i]).ToList(), keep.Select(i => ys[i]).ToList()));
        return this;
    }

    public void Save(string path, int width = 640, int height = 480) =>
        BitmapFile.SavePng(Charts.Lines(title, xLabel, yLabel, _series, LogX, XRange, YRange, width, height), path);
}
