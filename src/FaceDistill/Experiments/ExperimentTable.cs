using System.Globalization;
using System.Text;
using FaceDistill.Core;
using FaceDistill.Evaluation;
using FaceDistill.Plots;

namespace FaceDistill.Experiments;

/// <summary>
/// The table of an experiment, like the papers': per method and evaluation view the main metric as mean ± std over
/// seeds, the p-value of a paired test against the baseline pooled over seeds (McNemar on per-item correctness for
/// classification and verification; a sign-flip permutation test on per-image absolute errors for MAE — items are
/// paired within each seed; against a reference evaluated once, each item's outcome averaged over the seeds), one
/// secondary metric and the training time. A run may name its own baseline (a distilled MobileFaceNet against
/// MobileFaceNet alone); its row says so. Written as markdown, CSV and a bar chart.
/// </summary>
public static class ExperimentTable
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static (string Metric, bool HigherIsBetter, string Secondary) MetricsOf(string protocol) =>
        protocol switch
        {
            "verification" => ("acc", true, "tar@far=0.01"),
            "classification" => ("acc", true, "balanced_acc"),
            _ => ("mae", false, "rmse"),
        };

    /// <summary>The paired test of a method against the baseline, over the seeds both have (per-item outcomes
    /// concatenated). Against a baseline evaluated once (a reference row: a teacher) the item is the unit: the method's
    /// per-item outcome is averaged over its seeds and tested against the reference's (<see
    /// cref="Significance.SignFlip"/>; MAE: <see cref="Significance.PairedPermutation"/>) — pairing every seed with
    /// the one evaluation would count the reference's outcomes once per seed and overstate the evidence.</summary>
    public static TestResult? PValue(IReadOnlyList<EvalReport> baseline, IReadOnlyList<EvalReport> method)
    {
        if (ReferenceEquals(baseline, method))
            return null;
        if (baseline.Count == 1 && method.Count > 1)
            return AgainstReference(baseline[0], method);
        int n = Math.Min(baseline.Count, method.Count);
        if (n == 0)
            return null;
        if (baseline[0].Detail is RegressionResult)
        {
            var diffs = new List<double>();
            for (int s = 0; s < n; s++)
            {
                var a = ((RegressionResult)baseline[s].Detail).AbsoluteErrors;
                var b = ((RegressionResult)method[s].Detail).AbsoluteErrors;
                if (a.Length != b.Length)
                    throw new ArgumentException("paired comparison on different test sets");
                diffs.AddRange(b.Select((e, i) => e - a[i]));
            }
            return Significance.PairedPermutation(diffs);
        }
        var ca = new List<bool>();
        var cb = new List<bool>();
        for (int s = 0; s < n; s++)
        {
            var a = Correct(baseline[s]);
            var b = Correct(method[s]);
            if (a.Length != b.Length)
                throw new ArgumentException("paired comparison on different test sets");
            ca.AddRange(a);
            cb.AddRange(b);
        }
        return Significance.McNemar(ca, cb);
    }

    /// <summary>A method's seeds against one evaluation of the reference: per item, the method's outcome averaged over
    /// seeds minus the reference's.</summary>
    private static TestResult AgainstReference(EvalReport reference, IReadOnlyList<EvalReport> method)
    {
        double[] PerItem(EvalReport r) =>
            r.Detail is RegressionResult g ? g.AbsoluteErrors : Correct(r).Select(c => c ? 1.0 : 0.0).ToArray();
        var a = PerItem(reference);
        var seeds = method.Select(PerItem).ToList();
        if (seeds.Any(b => b.Length != a.Length))
            throw new ArgumentException("paired comparison on different test sets");
        var diffs = a.Select((x, i) => seeds.Average(b => b[i]) - x).ToList();
        return reference.Detail is RegressionResult
            ? Significance.PairedPermutation(diffs)
            : Significance.SignFlip(diffs);
    }

    /// <summary>The run a method is tested against (its own baseline, else the experiment's) and the test on one view;
    /// none for reference rows (unless the baseline is itself a teacher row: a table of teachers) and the
    /// baseline.</summary>
    private static (string? Against, TestResult? P) Test(ExperimentResult r, MethodResult m, string view)
    {
        bool teacherTable = r.Methods.First(x => x.Name == r.Plan.Baseline).IsReference;
        if ((m.IsReference && !teacherTable) || m.Name == r.Plan.Baseline)
            return (null, null);
        var against = r.Plan.BaselineOf(m.Name);
        return (against, PValue(r.Methods.First(x => x.Name == against).Reports[view], m.Reports[view]));
    }

    private static bool[] Correct(EvalReport r) =>
        r.Detail switch
        {
            VerificationResult v => v.Correct,
            ClassificationResult c => c.Correct,
            _ => throw new ArgumentException($"no per-item outcome in a {r.Protocol} result"),
        };

    private static (double Mean, double Std) MeanStd(IEnumerable<double> xs)
    {
        var v = xs.Where(double.IsFinite).ToArray();
        if (v.Length == 0)
            return (double.NaN, double.NaN);
        double m = v.Average();
        return (m, v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / (v.Length - 1)) : double.NaN);
    }

    private static string Fmt(string metric, double v) =>
        !double.IsFinite(v) ? "—"
        : metric == "mae" || metric == "rmse" ? v.ToString("F2", Inv)
        : (100 * v).ToString("F2", Inv);

    private static string P(TestResult? t) =>
        t is null ? "—"
        : t.PValue < 1e-3 ? t.PValue.ToString("0.0e+0", Inv)
        : t.PValue.ToString("F3", Inv);

    public static string Markdown(ExperimentResult r)
    {
        var baseline = r.Methods.First(m => m.Name == r.Plan.Baseline);
        var proto = baseline.Reports[r.Views[0]][0].Protocol;
        var (metric, higher, secondary) = MetricsOf(proto);
        string unit = metric == "mae" ? "years" : "%";
        var sb = new StringBuilder();
        sb.AppendLine($"## {r.Plan.Name}");
        if (r.Plan.Description.Length > 0)
            sb.AppendLine().AppendLine(r.Plan.Description);
        sb.AppendLine()
            .AppendLine(
                $"Task: {r.Task}; seeds: {string.Join(", ", r.Plan.Seeds)}; {metric} in {unit} "
                    + $"({(higher ? "higher" : "lower")} is better), mean ± std over seeds; "
                    + $"p: paired {(metric == "mae" ? "permutation test on absolute errors" : "McNemar test")} "
                    + $"against **{r.Plan.Baseline}**"
                    + (r.Plan.Runs.Any(x => x.Against is not null) ? " (rows marked \"vs X\": against X)" : "")
                    + ", items pooled over seeds (against a reference evaluated once: each item's outcome averaged "
                    + "over the seeds, sign-flip test)."
            );
        sb.AppendLine();
        var header = new StringBuilder("| method |");
        var rule = new StringBuilder("|---|");
        foreach (var v in r.Views)
        {
            header.Append($" {metric} ({v}) | p | {secondary} |");
            rule.Append("---:|---:|---:|");
        }
        header.Append(" train time (s) |");
        rule.Append("---:|");
        sb.AppendLine(header.ToString()).AppendLine(rule.ToString());
        foreach (var m in r.Methods)
        {
            var label = m.Kind switch
            {
                "reference" => $"{m.Name} (reference)",
                "combination" => $"{m.Name} (combined)",
                _ => m.Name,
            };
            if (m.Name == r.Plan.Baseline)
                label = $"**{m.Name}** (baseline)";
            if (!m.IsReference && r.Plan.BaselineOf(m.Name) is var own && own != r.Plan.Baseline)
                label += $" (vs {own})";
            sb.Append($"| {label} |");
            foreach (var v in r.Views)
            {
                var reps = m.Reports[v];
                var (mean, std) = MeanStd(reps.Select(x => x.Metrics[metric]));
                var (smean, _) = MeanStd(
                    reps.Select(x => x.Metrics.TryGetValue(secondary, out var y) ? y : double.NaN)
                );
                string cell = Fmt(metric, mean) + (double.IsFinite(std) ? " ± " + Fmt(metric, std) : "");
                var (_, p) = Test(r, m, v);
                sb.Append($" {cell} | {P(p)} | {Fmt(secondary, smean)} |");
            }
            var (tm, _) = MeanStd(m.TrainSeconds);
            sb.AppendLine($" {(double.IsFinite(tm) ? tm.ToString("F0", Inv) : "—")} |");
        }
        return sb.ToString();
    }

    public static string Csv(ExperimentResult r)
    {
        var keys = r
            .Methods.SelectMany(m => m.Reports.Values.SelectMany(l => l.SelectMany(x => x.Metrics.Keys)))
            .Distinct()
            .ToList();
        var sb = new StringBuilder(
            "method,kind,view,seed," + string.Join(',', keys) + ",p_vs_baseline,baseline,train_seconds\n"
        );
        foreach (var m in r.Methods)
        foreach (var v in r.Views)
        {
            var (against, p) = Test(r, m, v);
            for (int s = 0; s < m.Reports[v].Count; s++)
            {
                var rep = m.Reports[v][s];
                int seed = m.IsReference ? r.Plan.Seeds[0] : r.Plan.Seeds[s];
                double t = s < m.TrainSeconds.Count ? m.TrainSeconds[s] : double.NaN;
                sb.Append($"{Core.Csv.Field(m.Name)},{m.Kind},{Core.Csv.Field(v)},{seed},");
                sb.Append(
                    string.Join(
                        ',',
                        keys.Select(k => rep.Metrics.TryGetValue(k, out var x) ? x.ToString("G6", Inv) : "")
                    )
                );
                sb.Append(
                    $",{(p is null ? "" : p.PValue.ToString("G4", Inv))},{against ?? ""},"
                        + $"{(double.IsFinite(t) ? t.ToString("F1", Inv) : "")}\n"
                );
            }
        }
        return sb.ToString();
    }

    public static void Plot(ExperimentResult r, string path)
    {
        var proto = r.Methods[0].Reports[r.Views[0]][0].Protocol;
        var (metric, _, _) = MetricsOf(proto);
        double scale = metric == "mae" ? 1 : 100;
        var mean = new double[r.Methods.Count, r.Views.Count];
        var err = new double[r.Methods.Count, r.Views.Count];
        for (int i = 0; i < r.Methods.Count; i++)
        for (int j = 0; j < r.Views.Count; j++)
        {
            var (m, s) = MeanStd(r.Methods[i].Reports[r.Views[j]].Select(x => x.Metrics[metric] * scale));
            mean[i, j] = m;
            err[i, j] = s;
        }
        new BarPlot(
            $"{r.Plan.Name}: {metric} (mean ± std over seeds)",
            metric == "mae" ? "MAE (years)" : $"{metric} (%)"
        ).Save(path, r.Methods.Select(m => m.Name).ToList(), r.Views, mean, err);
    }

    /// <summary>Writes results.md, results.csv and results.png into the experiment's directory (atomically). A plan
    /// cut to some rows (<c>--only</c>) writes results-only.md/.csv/.png instead, so the whole plan's table is never
    /// replaced by a part of it.</summary>
    public static string Write(ExperimentResult r)
    {
        var md = Markdown(r);
        if (r.Plan.Subset is { } only)
        {
            md +=
                $"\nOnly the rows asked for (`--only {string.Join(',', only)}`) and the runs they need; the whole "
                + "plan's table is results.md.\n";
            md += DerivedTable.Markdown(r);
            AtomicFile.WriteAllText(
                Path.Combine(r.Directory, "results-only.md"),
                md + "\n![results](results-only.png)\n"
            );
            AtomicFile.WriteAllText(Path.Combine(r.Directory, "results-only.csv"), Csv(r));
            Plot(r, Path.Combine(r.Directory, "results-only.png"));
            return md;
        }
        var (metric, higher, _) = MetricsOf(
            r.Methods.First(m => m.Name == r.Plan.Baseline).Reports[r.Views[0]][0].Protocol
        );
        md += Convergence.Markdown(r, "val_" + metric, higher);
        md += DerivedTable.Markdown(r);
        if (Convergence.Plot(r, "val_" + metric, Path.Combine(r.Directory, "convergence.png")))
            md += "\n![convergence](convergence.png)\n";
        AtomicFile.WriteAllText(Path.Combine(r.Directory, "results.md"), md + $"\n![results](results.png)\n");
        AtomicFile.WriteAllText(Path.Combine(r.Directory, "results.csv"), Csv(r));
        Plot(r, Path.Combine(r.Directory, "results.png"));
        if (r.Task == "recognition")
            SimilarityPlot.Write(r);
        ExperimentHtmlReport.Write(r.Directory);
        return md;
    }
}
