using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Evaluation;
using FaceDistill.Plots;

namespace FaceDistill.Runs;

/// <summary>
/// <c>report.html</c> of a run, built only from the files of its directory (so <c>facedistill report</c> rebuilds it
/// any time): the command that reproduces it, model size and FLOPs, the final metrics, the loss, learning-rate,
/// images/s and evaluation curves of <c>metrics.csv</c>, the ROC curve and similarity histograms (verification) or the
/// confusion matrix (classification) of <c>evaluation.json</c>, the sample inputs per view (<c>samples.png</c>), the
/// machine and versions, and the resolved config.
/// </summary>
public static class RunHtmlReport
{
    public const string FileName = "report.html";
    public const string EvaluationFile = "evaluation.json";
    public const string SamplesFile = "samples.png";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The machine and versions of this process (stored in report.json when a run finishes).</summary>
    public static Dictionary<string, string> Machine() =>
        new()
        {
            ["os"] = RuntimeInformation.OSDescription,
            ["cpu cores"] = Environment.ProcessorCount.ToString(Inv),
            ["libtorch threads"] = TorchSharp.torch.get_num_threads().ToString(Inv),
            [".NET"] = RuntimeInformation.FrameworkDescription,
            ["TorchSharp"] = typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString() ?? "?",
            ["FaceDistill"] = typeof(RunHtmlReport).Assembly.GetName().Version?.ToString() ?? "?",
        };

    /// <summary>Writes what the HTML needs of a final evaluation: pair scores (verification) or the confusion matrix
    /// and class names (classification).</summary>
    public static void WriteEvaluation(string runDir, EvalReport e, IReadOnlyList<string>? classNames)
    {
        object? json = e.Detail switch
        {
            VerificationResult v => new
            {
                protocol = e.Protocol,
                scores = v.Scores.Select(s => Math.Round(s, 6)),
                same = v.Same,
            },
            ClassificationResult c => new
            {
                protocol = e.Protocol,
                classes = classNames ?? Enumerable.Range(0, c.Classes).Select(i => i.ToString(Inv)).ToList(),
                confusion = Enumerable
                    .Range(0, c.Classes)
                    .Select(i => Enumerable.Range(0, c.Classes).Select(j => c.Confusion[i, j]).ToArray()),
            },
            _ => null,
        };
        if (json is not null)
            AtomicFile.WriteAllText(Path.Combine(runDir, EvaluationFile), JsonSerializer.Serialize(json));
    }

    public static string Write(string runDir)
    {
        var configPath = Path.Combine(runDir, "config.json");
        if (!File.Exists(configPath))
            throw FaceDistillException.ForFile(runDir, "not a FaceDistill run directory (no config.json)");
        try
        {
            if (JsonNode.Parse(File.ReadAllText(configPath)) is not JsonObject)
                throw FaceDistillException.ForFile(configPath, "is not a JSON object: not a run's config");
        }
        catch (JsonException e)
        {
            throw FaceDistillException.ForFile(configPath, $"malformed JSON ({e.Message.Split(". ")[0]})");
        }
        var name = Path.GetFileName(Path.GetFullPath(runDir).TrimEnd('/'));
        var report = ReadJson(Path.Combine(runDir, "report.json"));
        var page = new HtmlPage($"FaceDistill run {name}");
        page.Heading("Reproduce")
            .Code(
                $"scripts/facedistill train {Path.Combine(runDir, "config.json")} --runs <another folder>\n"
                    + $"scripts/facedistill report {runDir}        # rebuilds this page"
            );
        Summary(page, report);
        Curves(page, Path.Combine(runDir, "metrics.csv"));
        Evaluation(page, Path.Combine(runDir, EvaluationFile));
        var samples = Path.Combine(runDir, SamplesFile);
        if (File.Exists(samples))
            page.Heading("Sample inputs, as the model saw them")
                .Paragraph("One row per view of the run (clean, and every view the objective trains on), augmented.")
                .Figures([("first training batch", File.ReadAllBytes(samples))]);
        page.Heading("Machine and versions");
        var machine = report?["machine"] as JsonObject;
        var rows = machine is not null
            ? machine.Select(kv => (IReadOnlyList<string>)[kv.Key, kv.Value?.ToString() ?? ""])
            : Machine().Select(kv => (IReadOnlyList<string>)[kv.Key, kv.Value + " (of the report, not the run)"]);
        page.Table(["", ""], rows);
        page.Heading("Resolved config (config.json)").Code(File.ReadAllText(configPath));
        var path = Path.Combine(runDir, FileName);
        AtomicFile.WriteAllText(path, page.Render());
        return path;
    }

    private static JsonNode? ReadJson(string path)
    {
        if (!File.Exists(path))
            return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw FaceDistillException.ForFile(path, $"not valid JSON ({e.Message.Split('\n')[0]})");
        }
    }

    private static void Summary(HtmlPage page, JsonNode? report)
    {
        page.Heading("Model and result");
        if (report is null)
        {
            page.Paragraph("The run has not finished: no report.json yet.");
            return;
        }
        string S(string key) => report[key]?.ToString() ?? "—";
        double D(string key) => report[key]?.GetValue<double>() ?? double.NaN;
        page.Table(
            ["", ""],
            [
                ["task", S("task")],
                ["backbone", S("backbone")],
                ["parameters", (D("parameters") / 1e6).ToString("F2", Inv) + " M"],
                ["FLOPs", (D("flops") / 1e6).ToString("F1", Inv) + " M"],
                ["steps", S("steps")],
                ["final loss", D("finalLoss").ToString("F4", Inv)],
                [
                    "training time",
                    TimeSpan.FromSeconds(double.IsFinite(D("seconds")) ? D("seconds") : 0).ToString(@"hh\:mm\:ss"),
                ],
                ["checkpoint", S("checkpoint")],
            ]
        );
        if (report["metrics"] is JsonObject metrics)
        {
            page.Heading($"Evaluation ({S("protocol")})", 3);
            page.Table(
                ["metric", "value"],
                metrics.Select(kv =>
                    (IReadOnlyList<string>)
                        [kv.Key, kv.Value is null ? "—" : kv.Value.GetValue<double>().ToString("F4", Inv)]
                )
            );
        }
    }

    private static void Curves(HtmlPage page, string csv)
    {
        if (!File.Exists(csv))
            return;
        var lines = File.ReadAllLines(csv).Where(l => l.Length > 0).ToList();
        var header = lines.Count > 0 ? lines[0].Split(',') : [];
        if (lines.Count < 2 || header[0] != "step")
        {
            var problem =
                lines.Count == 0 ? "is empty"
                : header[0] != "step" ? "is not a metrics log (its header does not start with 'step')"
                : "holds no steps yet";
            Log.Warn($"{csv}: {problem}; the report has no training curves");
            page.Heading("Training curves (metrics.csv)").Paragraph($"None: metrics.csv {problem}.");
            return;
        }
        var cols = header.Select(_ => new List<(double Step, double Value)>()).ToArray();
        int unreadable = 0;
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split(',');
            if (f.Length != header.Length || !double.TryParse(f[0], NumberStyles.Float, Inv, out var step))
            {
                unreadable++;
                continue;
            }
            for (int c = 1; c < f.Length; c++)
                if (double.TryParse(f[c], NumberStyles.Float, Inv, out var v) && double.IsFinite(v))
                    cols[c].Add((step, v));
        }
        Series Col(string name)
        {
            int i = Array.IndexOf(header, name);
            var pts = i < 0 ? [] : cols[i];
            return new Series(name, pts.Select(p => p.Step).ToList(), pts.Select(p => p.Value).ToList());
        }
        var figures = new List<(string, byte[])>();
        void Add(string caption, string y, params Series[] series)
        {
            if (series.Any(s => s.X.Count > 0))
                figures.Add((caption, Charts.Lines(caption, "step", y, series)));
        }
        Add("training loss", "loss", Col("loss"));
        Add("learning rate", "lr", Col("lr"));
        Add("throughput", "images/s", Col("images_per_s"));
        var evals = header.Where(h => h.StartsWith("val_") && !h.EndsWith("_std")).Select(Col).ToArray();
        Add("evaluation during training", "value", evals);
        if (unreadable > 0)
            Log.Warn($"{csv}: {unreadable} of {lines.Count - 1} lines unreadable, left out of the curves");
        if (figures.Count > 0)
            page.Heading("Training curves (metrics.csv)").Figures(figures);
    }

    private static void Evaluation(HtmlPage page, string path)
    {
        var json = ReadJson(path);
        if (json is null)
            return;
        if (json["scores"] is JsonArray scoresJson && json["same"] is JsonArray sameJson)
        {
            var scores = scoresJson.Select(s => s!.GetValue<double>()).ToList();
            var same = sameJson.Select(s => s!.GetValue<bool>()).ToList();
            if (scores.Count == 0 || scores.Count != same.Count)
                return;
            var roc = Verification.Roc(scores, same).Where(p => p.Far > 0).ToList();
            var rocPng = Charts.Lines(
                "ROC of the final evaluation",
                "false accept rate",
                "true accept rate",
                [new Series("ROC", roc.Select(p => p.Far).ToList(), roc.Select(p => p.Tar).ToList())],
                logX: true
            );
            // the range of the scores (a weak model's cosines crowd near 1), with a little room
            double lo = scores.Min(),
                hi = scores.Max(),
                pad = Math.Max(1e-3, 0.02 * (hi - lo));
            (lo, hi) = (lo - pad, hi + pad);
            var hist = Charts.Histograms(
                "cosine similarity of the pairs",
                "cosine",
                [
                    ("same person", scores.Where((_, i) => same[i]).ToList()),
                    ("different people", scores.Where((_, i) => !same[i]).ToList()),
                ],
                lo,
                hi
            );
            page.Heading("Verification").Figures([("ROC", rocPng), ("similarity histograms", hist)]);
        }
        else if (json["confusion"] is JsonArray confusion && json["classes"] is JsonArray classes)
        {
            var names = classes.Select(c => c!.ToString()).ToList();
            var header = new List<string> { "truth \\ predicted" };
            header.AddRange(names);
            var rows = confusion.Select(
                (row, i) =>
                    (IReadOnlyList<string>)[names[i], .. row!.AsArray().Select(v => v!.GetValue<int>().ToString(Inv))]
            );
            page.Heading("Confusion matrix of the final evaluation").Table(header, rows);
        }
    }
}
