namespace FaceDistill.Plots;

/// <summary>Grouped bars with error bars written to a PNG file, drawn by ScottPlot through <see cref="Charts"/>: one
/// group per category (method), one bar per series (view).</summary>
public sealed class BarPlot(string title, string yLabel)
{
    public void Save(
        string path,
        IReadOnlyList<string> categories,
        IReadOnlyList<string> series,
        double[,] mean,
        double[,] err,
        int width = 760,
        int height = 420
    ) => BitmapFile.SavePng(Charts.Bars(title, yLabel, categories, series, mean, err, width, height), path);
}
