using System.Globalization;
using System.Text.RegularExpressions;
using FaceDistill.Core;
using FaceDistill.Plots;
using FaceDistill.Runs;

namespace FaceDistill.Experiments;

/// <summary>
/// <c>report.html</c> of an experiment, built from its directory: the tables of <c>results.md</c> (every method and
/// view, with p-values against the baseline, convergence and derived-set tables) and its figures inline, a bar chart of
/// the headline metric per method and view from <c>results.csv</c> (ScottPlot), and a link to each run's own report.
/// </summary>
public static partial class ExperimentHtmlReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    [GeneratedRegex(@"^!\[(?<alt>[^\]]*)\]\((?<file>[^)]+)\)$")]
    private static partial Regex ImageLine();

    public static string Write(string dir)
    {
        var md = Path.Combine(dir, "results.md");
        if (!File.Exists(md))
            throw FaceDistillException.ForFile(dir, "not an experiment directory (no results.md)");
        var name = Path.GetFileName(Path.GetFullPath(dir).TrimEnd('/'));
        var page = new HtmlPage($"FaceDistill experiment {name}");
        if (BarChart(Path.Combine(dir, "results.csv"), name) is { } chart)
            page.Figures([("headline metric per method and view (mean ± std over seeds)", chart)]);
        Markdown(page, File.ReadAllLines(md), dir);
        var runs = Directory
            .EnumerateDirectories(dir)
            .Where(d => File.Exists(Path.Combine(d, RunHtmlReport.FileName)))
            .OrderBy(d => d, StringComparer.Ordinal)
            .ToList();
        if (runs.Count > 0)
        {
            page.Heading("Runs");
            page.Raw(
                "<ul>"
                    + string.Concat(
                        runs.Select(r =>
                        {
                            var n = Path.GetFileName(r);
                            var href = $"{Uri.EscapeDataString(n)}/{RunHtmlReport.FileName}";
                            return $"<li><a href=\"{href}\">{HtmlPage.E(n)}</a></li>";
                        })
                    )
                    + "</ul>"
            );
        }
        var path = Path.Combine(dir, RunHtmlReport.FileName);
        AtomicFile.WriteAllText(path, page.Render());
        return path;
    }

    /// <summary>The subset of markdown FaceDistill writes: headings, pipe tables, images on their own line,
    /// paragraphs.</summary>
    private static void Markdown(HtmlPage page, IReadOnlyList<string> lines, string dir)
    {
        for (int i = 0; i < lines.Count; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0)
                continue;
            if (line.StartsWith('#'))
            {
                int level = line.TakeWhile(c => c == '#').Count();
                page.Heading(line[level..].Trim().Replace("`", ""), Math.Clamp(level + 1, 2, 4));
            }
            else if (line.StartsWith('|'))
            {
                var rows = new List<string[]>();
                for (; i < lines.Count && lines[i].TrimStart().StartsWith('|'); i++)
                    rows.Add(Cells(lines[i]));
                i--;
                var body = rows.Skip(1).Where(r => !r.All(c => c.Length > 0 && c.All(ch => ch is '-' or ':')));
                page.Table(rows[0], body.ToList());
            }
            else if (ImageLine().Match(line) is { Success: true } m)
            {
                var file = Path.Combine(dir, m.Groups["file"].Value);
                if (File.Exists(file) && file.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
                    page.Figures([(m.Groups["alt"].Value, File.ReadAllBytes(file))]);
            }
            else
                page.Paragraph(line.Replace("**", "").Replace("`", ""));
        }
    }

    private static string[] Cells(string row) =>
        row.Trim().Trim('|').Split('|').Select(c => c.Trim().Replace("**", "").Replace("`", "")).ToArray();

    private static byte[]? BarChart(string csv, string name)
    {
        if (!File.Exists(csv))
            return null;
        var records = Core.Csv.Records(File.ReadAllText(csv), csv).Select(r => r.Fields).ToList();
        if (records.Count < 2)
            return null;
        var header = records[0];
        string metric =
            header.Contains("acc") ? "acc"
            : header.Contains("mae") ? "mae"
            : "";
        int mi = Array.IndexOf(header, metric),
            vi = Array.IndexOf(header, "view");
        if (mi < 0 || vi < 0)
            return null;
        var rows = records.Skip(1).Where(r => r.Length == header.Length).ToList();
        var methods = rows.Select(r => r[0]).Distinct().ToList();
        var views = rows.Select(r => r[vi]).Distinct().ToList();
        double scale = metric == "acc" ? 100 : 1;
        var mean = new double[methods.Count, views.Count];
        var std = new double[methods.Count, views.Count];
        for (int a = 0; a < methods.Count; a++)
        for (int b = 0; b < views.Count; b++)
        {
            var xs = rows.Where(r => r[0] == methods[a] && r[vi] == views[b])
                .Select(r => double.TryParse(r[mi], NumberStyles.Float, Inv, out var x) ? x * scale : double.NaN)
                .Where(double.IsFinite)
                .ToList();
            mean[a, b] = xs.Count > 0 ? xs.Average() : double.NaN;
            std[a, b] = xs.Count > 1 ? Math.Sqrt(xs.Sum(x => (x - mean[a, b]) * (x - mean[a, b])) / (xs.Count - 1)) : 0;
        }
        return Charts.Bars(name, metric == "acc" ? "accuracy (%)" : "MAE (years)", methods, views, mean, std);
    }
}
