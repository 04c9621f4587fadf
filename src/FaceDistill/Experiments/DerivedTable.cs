using System.Globalization;
using System.Text;

namespace FaceDistill.Experiments;

/// <summary>The derived training sets of an experiment as a table under its results: what each holds per class, the
/// precision of mined labels where the truth is known, what building it cost (the extra cost of the rows that read it,
/// on top of their training time), and which runs read it.</summary>
public static class DerivedTable
{
    public static string Markdown(ExperimentResult r)
    {
        if (r.Derived.Count == 0)
            return "";
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine()
            .AppendLine("### Derived training sets")
            .AppendLine()
            .AppendLine(
                "| set | kind | seed | images | per class | mined precision | build time (s) | read by (runs, #sets) |"
            )
            .AppendLine("|---|---|---:|---:|---|---:|---:|---|");
        foreach (var d in r.Derived)
        {
            // the runs that read the set itself, and the sets condensed from it
            var readers = r
                .Plan.Runs.Where(run => PlanReader.DeriveReferences(run).Contains(d.Name))
                .Select(run => run.Name)
                .Concat(r.Plan.Derive.Where(x => x.Condense is not null && x.From == d.Name).Select(x => $"#{x.Name}"));
            string precision = double.IsFinite(d.Precision) ? (100 * d.Precision).ToString("F1", inv) + " %" : "—";
            sb.AppendLine(
                $"| {d.Name} | {d.Kind} | {d.Seed} | {d.Count} | {string.Join(" / ", d.PerClass)} | {precision} | "
                    + $"{d.Seconds.ToString("F0", inv)} | {string.Join(", ", readers)} |"
            );
        }
        var notes = r.Derived.SelectMany(d => d.Notes.Select(n => $"{d.Name}-s{d.Seed}: {n}")).ToList();
        if (notes.Count > 0)
            sb.AppendLine().AppendLine("Notes: " + string.Join("; ", notes) + ".");
        return sb.ToString();
    }
}
