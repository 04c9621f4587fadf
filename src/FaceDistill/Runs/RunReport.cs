using System.Globalization;
using System.Text;
using System.Text.Json;
using FaceDistill.Core;
using FaceDistill.Evaluation;
using FaceDistill.Models;
using FaceDistill.Plots;

namespace FaceDistill.Runs;

/// <summary>The final report of a run: report.md (human) and report.json (machine), written atomically, plus
/// plots.</summary>
public static class RunReport
{
    public static void Write(
        string runDir,
        string name,
        string task,
        ModelStats stats,
        Training.TrainResult result,
        int trainImages
    )
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# Run `{name}`").AppendLine();
        sb.AppendLine($"- task: {task}");
        sb.AppendLine(
            $"- backbone: {stats.Name}, input {stats.InputSize}×{stats.InputSize}, {stats.Parameters / 1e6:F2} M "
                + $"parameters, {stats.Flops / 1e6:F1} MFLOPs"
        );
        sb.AppendLine(
            $"- training images: {trainImages}; steps: {result.Steps}; final loss {result.FinalLoss:F4}; time "
                + $"{result.Elapsed:hh\\:mm\\:ss}"
        );
        sb.AppendLine($"- checkpoint: {result.LastCheckpoint}").AppendLine();
        if (result.FinalEval is { } e)
        {
            sb.AppendLine($"## Evaluation ({e.Protocol})")
                .AppendLine()
                .AppendLine("| metric | value |")
                .AppendLine("|---|---|");
            foreach (var (k, v) in e.Metrics)
                sb.AppendLine($"| {k} | {v.ToString("F4", CultureInfo.InvariantCulture)} |");
            if (e.Detail is VerificationResult vr)
            {
                Roc(vr, Path.Combine(runDir, "roc.png"), $"ROC — {name}");
                sb.AppendLine().AppendLine("![ROC](roc.png)");
                var cal = Calibration.From(vr, "the run's final evaluation");
                cal.Save(runDir);
                sb.AppendLine()
                    .AppendLine(
                        $"Calibrated threshold (`{Calibration.FileName}`): cos > {cal.Threshold:F4}, FAR "
                            + $"{cal.Far:P2}, TAR {cal.Tar:P2} on its {cal.Pairs} pairs."
                    );
            }
            if (e.Detail is ClassificationResult cr)
                sb.AppendLine().AppendLine(ConfusionMarkdown(cr));
        }
        if (LossCurve(Path.Combine(runDir, "metrics.csv"), Path.Combine(runDir, "loss.png"), name))
            sb.AppendLine().AppendLine("![training loss](loss.png)");
        AtomicFile.WriteAllText(Path.Combine(runDir, "report.md"), sb.ToString());
        var json = new
        {
            name,
            task,
            backbone = stats.Name,
            parameters = stats.Parameters,
            flops = stats.Flops,
            steps = result.Steps,
            finalLoss = Finite(result.FinalLoss),
            seconds = result.Elapsed.TotalSeconds,
            protocol = result.FinalEval?.Protocol,
            metrics = result.FinalEval?.Metrics.ToDictionary(kv => kv.Key, kv => Finite(kv.Value)),
            checkpoint = result.LastCheckpoint,
            machine = RunHtmlReport.Machine(),
        };
        AtomicFile.WriteAllText(
            Path.Combine(runDir, "report.json"),
            JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true })
        );
        if (result.FinalEval is { } final)
            RunHtmlReport.WriteEvaluation(runDir, final, ClassNames(task));
        try
        {
            RunHtmlReport.Write(runDir);
        }
        catch (Exception failure) when (failure is not OutOfMemoryException)
        {
            // the run and its reports above are complete; the page can be rebuilt later
            var why = FaceDistillException.OneLine(failure.Message);
            Log.Warn($"{runDir}: report.html not written ({why}); `facedistill report` retries");
        }
    }

    /// <summary>The class names of an attribute task, where they are fixed (FER2013's expression order); otherwise
    /// the classes are numbered.</summary>
    public static IReadOnlyList<string>? ClassNames(string task) =>
        task == "expression" ? Enum.GetNames<Data.Expression>() : null;

    /// <summary>A number for JSON: non-finite values (a loss of no step, a metric the pairs cannot give) are
    /// null.</summary>
    private static double? Finite(double v) => double.IsFinite(v) ? v : null;

    /// <summary>Plots the training loss of metrics.csv against the step; false when there is nothing to plot.</summary>
    public static bool LossCurve(string metricsCsv, string pngPath, string name)
    {
        if (!File.Exists(metricsCsv))
            return false;
        var rows = File.ReadAllLines(metricsCsv)
            .Skip(1)
            .Select(l => l.Split(','))
            .Where(f => f.Length > 2 && f[2].Length > 0)
            .Select(f =>
                (
                    Step: double.Parse(f[0], CultureInfo.InvariantCulture),
                    Loss: double.Parse(f[2], CultureInfo.InvariantCulture)
                )
            )
            .ToList();
        if (rows.Count < 2)
            return false;
        new LinePlot($"training loss — {name}", "step", "loss")
            .Add("loss", rows.Select(r => r.Step), rows.Select(r => r.Loss))
            .Save(pngPath);
        return true;
    }

    public static void Roc(VerificationResult vr, string pngPath, string title) =>
        new LinePlot(title, "FAR", "TAR")
        {
            LogX = true,
            XRange = (1e-3, 1),
            YRange = (0, 1),
        }
            .Add($"AUC {vr.Auc:F3}", vr.Roc.Select(p => p.Far), vr.Roc.Select(p => p.Tar))
            .Save(pngPath);

    public static string ConfusionMarkdown(ClassificationResult r, IReadOnlyList<string>? names = null)
    {
        var sb = new StringBuilder("| truth \\ predicted |");
        string N(int i) => names is not null && i < names.Count ? names[i] : i.ToString();
        for (int j = 0; j < r.Classes; j++)
            sb.Append($" {N(j)} |");
        sb.AppendLine().Append("|---|").AppendLine(string.Concat(Enumerable.Repeat("---|", r.Classes)));
        for (int i = 0; i < r.Classes; i++)
        {
            sb.Append($"| {N(i)} |");
            for (int j = 0; j < r.Classes; j++)
                sb.Append($" {r.Confusion[i, j]} |");
            sb.AppendLine();
        }
        return sb.ToString();
    }
}
