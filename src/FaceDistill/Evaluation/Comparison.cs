using System.Globalization;
using System.Text;

namespace FaceDistill.Evaluation;

/// <summary>One row of a comparison table: a model's result and its p-value against the baseline.</summary>
public sealed record ComparisonRow(string Name, string Metric, double Value, double? PValue, string Test);

/// <summary>
/// Compares models evaluated on the same items (the same pairs, images or faces) against a baseline, each with a
/// paired test: McNemar on per-pair (verification) or per-image (classification) correctness, a sign-flip permutation
/// test on per-image absolute errors (regression). See <see cref="Significance"/>.
/// </summary>
public static class Comparison
{
    public static List<ComparisonRow> Against(IReadOnlyList<(string Name, EvalReport Report)> results, int baseline = 0)
    {
        var b = results[baseline].Report;
        var rows = new List<ComparisonRow>();
        foreach (var (name, r) in results)
        {
            if (r.Protocol != b.Protocol)
                throw new ArgumentException($"{name} was evaluated with {r.Protocol}, the baseline with {b.Protocol}");
            bool isBase = ReferenceEquals(r, b);
            if (PerItemCorrectness(r.Detail) is var (acc, correct))
            {
                var baseCorrect = PerItemCorrectness(b.Detail)!.Value.Correct;
                Check(correct.Length, baseCorrect.Length, name);
                var t = isBase ? null : Significance.McNemar(baseCorrect, correct);
                rows.Add(new ComparisonRow(name, "acc", acc, t?.PValue, t?.Test ?? "baseline"));
            }
            else if (r.Detail is RegressionResult g)
            {
                var bg = (RegressionResult)b.Detail;
                Check(g.AbsoluteErrors.Length, bg.AbsoluteErrors.Length, name);
                var t = isBase
                    ? null
                    : Significance.PairedPermutation(
                        g.AbsoluteErrors.Select((e, i) => e - bg.AbsoluteErrors[i]).ToArray()
                    );
                rows.Add(new ComparisonRow(name, "mae", g.Mae, t?.PValue, t?.Test ?? "baseline"));
            }
            else
                throw new ArgumentException($"{name}: nothing to compare in a {r.Protocol} result");
        }
        return rows;
    }

    /// <summary>Accuracy and per-item correctness of a verification (per pair) or classification (per image)
    /// result.</summary>
    private static (double Accuracy, bool[] Correct)? PerItemCorrectness(object detail) =>
        detail switch
        {
            VerificationResult v => (v.Accuracy, v.Correct),
            ClassificationResult c => (c.Accuracy, c.Correct),
            _ => null,
        };

    private static void Check(int n, int m, string name)
    {
        if (n != m)
            throw new ArgumentException(
                $"{name} was evaluated on {n} items, the baseline on {m}: comparisons must be paired"
            );
    }

    public static string Markdown(
        IEnumerable<ComparisonRow> rows,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>>? extra = null
    )
    {
        var sb = new StringBuilder("| model | metric | value | p vs baseline | test |\n|---|---|---:|---:|---|\n");
        foreach (var r in rows)
        {
            string v =
                r.Metric == "mae"
                    ? r.Value.ToString("F3", CultureInfo.InvariantCulture)
                    : (100 * r.Value).ToString("F2", CultureInfo.InvariantCulture) + " %";
            string p = r.PValue is { } pv
                ? pv.ToString(pv < 1e-3 ? "0.0e+0" : "F3", CultureInfo.InvariantCulture)
                : "—";
            sb.Append($"| {r.Name} | {r.Metric} | {v} | {p} | {r.Test} |\n");
        }
        return sb.ToString();
    }
}
