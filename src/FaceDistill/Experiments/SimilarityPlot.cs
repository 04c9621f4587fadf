using FaceDistill.Evaluation;
using FaceDistill.Plots;

namespace FaceDistill.Experiments;

/// <summary>
/// The distributions Huang et al. (2020) reason about: cosine similarities of positive (same identity) and negative
/// pairs, per evaluation view, one chart per method. For DDL, compare the student alone ("before") with the DDL student
/// ("after"): the hard view's positive distribution should move towards the easy view's, and the negatives stay apart.
/// Densities are histograms over [−1, 1] normalised to unit area.
/// </summary>
public static class SimilarityPlot
{
    public const int Bins = 50;

    /// <summary>Density of <paramref name="values"/> at the centres of <see cref="Bins"/> bins over [−1, 1].</summary>
    public static (double[] Centers, double[] Density) Histogram(IReadOnlyList<double> values)
    {
        var counts = new double[Bins];
        foreach (var v in values)
        {
            int b = (int)Math.Floor((Math.Clamp(v, -1, 1) + 1) / 2 * Bins);
            counts[Math.Min(b, Bins - 1)]++;
        }
        double width = 2.0 / Bins,
            total = Math.Max(values.Count, 1);
        return (
            Enumerable.Range(0, Bins).Select(i => -1 + (i + 0.5) * width).ToArray(),
            counts.Select(c => c / (total * width)).ToArray()
        );
    }

    /// <summary>Writes <c>similarity-&lt;method&gt;.png</c> for every method with verification results (first seed);
    /// returns the files written.</summary>
    public static IReadOnlyList<string> Write(ExperimentResult r)
    {
        var written = new List<string>();
        foreach (var m in r.Methods)
        {
            var plot = new LinePlot($"{m.Name}: pair similarities", "cosine similarity", "density")
            {
                XRange = (-1, 1),
            };
            bool any = false;
            foreach (var v in r.Views)
            {
                if (
                    m.Reports[v].Count == 0
                    || m.Reports[v][0].Detail is not VerificationResult vr
                    || vr.Scores.Length == 0
                )
                    continue;
                var pos = vr.Scores.Where((_, i) => vr.Same[i]).ToList();
                var neg = vr.Scores.Where((_, i) => !vr.Same[i]).ToList();
                var (x, dp) = Histogram(pos);
                plot.Add($"same ({v})", x, dp);
                plot.Add($"different ({v})", x, Histogram(neg).Density);
                any = true;
            }
            if (!any)
                continue;
            var safe = string.Concat(
                m.Name.Select(ch => char.IsLetterOrDigit(ch) || ch is '-' or '+' or '_' ? ch : '_')
            );
            var path = Path.Combine(r.Directory, $"similarity-{safe}.png");
            plot.Save(path);
            written.Add(path);
        }
        return written;
    }
}
