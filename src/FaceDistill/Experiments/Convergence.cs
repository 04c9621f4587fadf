using System.Globalization;
using System.Text;
using FaceDistill.Core;
using FaceDistill.Plots;

namespace FaceDistill.Experiments;

/// <summary>Convergence speed as MultiFace (Xu et al., 2021) measures it: the training steps a method needs before its
/// validation metric first reaches the final value of its reference (the single-head baseline), read from each run's
/// <c>metrics.csv</c> (evaluations every <c>train.evalEvery</c> epochs), and the speed-up <c>steps_reference /
/// steps_method</c>, where steps_reference is the step of the reference's last evaluation.</summary>
public static class Convergence
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>(step, value) of every evaluation logged in <paramref name="metricsCsv"/> for <paramref
    /// name="column"/>.</summary>
    public static IReadOnlyList<(long Step, double Value)> Curve(string metricsCsv, string column)
    {
        if (!File.Exists(metricsCsv))
            throw FaceDistillException.ForFile(metricsCsv, "metrics log not found");
        var lines = File.ReadAllLines(metricsCsv);
        if (lines.Length == 0)
            throw FaceDistillException.ForFile(metricsCsv, "empty metrics log");
        var header = lines[0].Split(',');
        int stepCol = Array.IndexOf(header, "step"),
            col = Array.IndexOf(header, column);
        if (stepCol < 0 || col < 0)
            throw FaceDistillException.ForFile(metricsCsv, $"no '{column}' column");
        var curve = new List<(long, double)>();
        foreach (var l in lines.Skip(1))
        {
            var f = l.Split(',');
            if (f.Length <= col || f[col].Length == 0)
                continue;
            if (
                long.TryParse(f[stepCol], NumberStyles.Integer, Inv, out var s)
                && double.TryParse(f[col], NumberStyles.Float, Inv, out var v)
                && double.IsFinite(v)
            )
                curve.Add((s, v));
        }
        return curve;
    }

    /// <summary>The first step at which the curve reaches <paramref name="target"/> (≥, or ≤ when lower is better);
    /// null if never.</summary>
    public static long? StepsToReach(
        IReadOnlyList<(long Step, double Value)> curve,
        double target,
        bool higherIsBetter = true
    )
    {
        foreach (var (s, v) in curve)
            if (higherIsBetter ? v >= target - 1e-12 : v <= target + 1e-12)
                return s;
        return null;
    }

    /// <summary>A markdown section for the plan's <c>convergence</c> pairs (method → reference), per seed; empty when
    /// the runs logged fewer than two evaluations.</summary>
    public static string Markdown(ExperimentResult r, string column, bool higherIsBetter)
    {
        if (r.Plan.Convergence.Count == 0)
            return "";
        var sb = new StringBuilder();
        sb.AppendLine()
            .AppendLine($"### Convergence: steps until validation {column} first reaches the reference's final value");
        sb.AppendLine()
            .AppendLine("| method | reference | seed | reference final | reference steps | method steps | speed-up |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var (method, reference) in r.Plan.Convergence)
        {
            var m = r.Methods.FirstOrDefault(x => x.Name == method);
            var b = r.Methods.FirstOrDefault(x => x.Name == reference);
            if (m is null || b is null)
                continue;
            for (int s = 0; s < Math.Min(m.RunDirs.Count, b.RunDirs.Count); s++)
            {
                var cb = Curve(Path.Combine(b.RunDirs[s], "metrics.csv"), column);
                var cm = Curve(Path.Combine(m.RunDirs[s], "metrics.csv"), column);
                if (cb.Count < 2 || cm.Count < 2)
                    return "";
                var (refSteps, target) = cb[^1];
                var steps = StepsToReach(cm, target, higherIsBetter);
                string Val(double v) => column.Contains("mae") ? v.ToString("F2", Inv) : (100 * v).ToString("F2", Inv);
                sb.AppendLine(
                    $"| {method} | {reference} | {r.Plan.Seeds[s]} | {Val(target)} | {refSteps} | "
                        + $"{(steps?.ToString(Inv) ?? "not reached")} | "
                        + $"{(steps is { } st ? (refSteps / (double)st).ToString("F2", Inv) + "×" : "—")} |"
                );
            }
        }
        return sb.ToString();
    }

    /// <summary>The validation curves of every convergence pair (method and reference, first seed) on one chart:
    /// <c>convergence.png</c>. False (nothing written) when the runs logged fewer than two evaluations.</summary>
    public static bool Plot(ExperimentResult r, string column, string path)
    {
        if (r.Plan.Convergence.Count == 0)
            return false;
        var plot = new LinePlot(
            $"{r.Plan.Name}: validation {column} during training (seed {r.Plan.Seeds[0]})",
            "step",
            column
        );
        double scale = column.Contains("mae") ? 1 : 100;
        int series = 0;
        foreach (var (method, reference) in r.Plan.Convergence)
        foreach (var name in new[] { method, reference })
        {
            var m = r.Methods.FirstOrDefault(x => x.Name == name);
            if (m is null || m.RunDirs.Count == 0)
                continue;
            var curve = Curve(Path.Combine(m.RunDirs[0], "metrics.csv"), column);
            if (curve.Count < 2)
                return false;
            plot.Add(name, curve.Select(c => (double)c.Step), curve.Select(c => c.Value * scale));
            series++;
        }
        if (series == 0)
            return false;
        plot.Save(path);
        return true;
    }
}
