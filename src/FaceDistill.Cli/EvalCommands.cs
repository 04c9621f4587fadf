using System.CommandLine;
using System.Globalization;
using FaceDistill.Core;
using FaceDistill.Evaluation;
using FaceDistill.Experiments;
using FaceDistill.Runs;
using Spectre.Console;
using static FaceDistill.Cli.Commands;

namespace FaceDistill.Cli;

/// <summary><c>eval</c> (<see cref="ModelEvaluation"/>) and <c>compare</c> (<see cref="RunComparison"/>): metrics as
/// tables.</summary>
internal static class EvalCommands
{
    internal static Command EvalCommand()
    {
        var run = new Option<string?>("--run")
        {
            Description = "Run directory (uses its config.json and latest checkpoint)",
        };
        var model = new Option<string?>("--model")
        {
            Description =
                "Instead of a run: a model verified as it is on --pairs/--images — an exported file.onnx (one run or "
                + "a combination), onnx:<file.onnx>[?options] or zoo:<net> (e.g. zoo:faceres)",
        };
        var landmarks = new Option<string?>("--landmarks")
        {
            Description = "68 landmarks of the pair images (a CSV, e.g. align's landmarks.csv, or zoo): occluded views",
        };
        var checkpoint = new Option<string?>("--checkpoint")
        {
            Description = "A checkpoint directory or model.bin (default: the run's latest)",
        };
        var pairs = new Option<string?>("--pairs") { Description = "Verification pair list (LFW pairs.txt format)" };
        var images = new Option<string?>("--images") { Description = "Image root of the pair list" };
        var occludedImages = new Option<string?>("--images-occluded")
        {
            Description =
                "With --model: the pair images aligned from photos occluded before the front end ran (same relative "
                + "paths as --images); --sides one reads the second image of every pair from here, both (default) both",
        };
        var crop = new Option<double>("--center-crop")
        {
            Description = "Fraction of the image kept around the centre",
            DefaultValueFactory = _ => 1.0,
        };
        var noFlip = new Option<bool>("--no-flip") { Description = "Disable flip test-time augmentation" };
        var view = new Option<string>("--view")
        {
            Description =
                "The view of the evaluation images: clean (the images as they are, e.g. photos of real masks), "
                + "occluded:mask, lowres:16, …",
            DefaultValueFactory = _ => "clean",
        };
        var sides = new Option<string?>("--sides")
        {
            Description =
                "Verification: the view on one side of every pair (a degraded probe against a clean gallery) or on "
                + "both (default: the run's eval.pairSides)",
        };
        sides.AcceptOnlyFromAmong("one", "both");
        var roc = new Option<string?>("--roc") { Description = "Write the ROC curve (verification) to this PNG" };
        var calibrate = new Option<bool>("--calibrate")
        {
            Description =
                "Verification: save the threshold calibrated on these pairs and this view as the run's "
                + "calibration.json (what export and serve use), replacing the one of its training; without it the "
                + "threshold is only printed",
        };
        var cmd = new Command("eval", "Evaluate a trained checkpoint and print a table")
        {
            run,
            model,
            checkpoint,
            pairs,
            images,
            occludedImages,
            landmarks,
            crop,
            noFlip,
            view,
            sides,
            roc,
            calibrate,
            QuietOption,
            ThreadsOption,
        };
        cmd.SetAction(p =>
            Guard(() =>
            {
                Common(p);
                var outcome = ModelEvaluation.Evaluate(
                    new EvalRequest
                    {
                        Run = p.GetValue(run),
                        Model = p.GetValue(model),
                        Checkpoint = p.GetValue(checkpoint),
                        Pairs = p.GetValue(pairs),
                        Images = p.GetValue(images),
                        OccludedImages = p.GetValue(occludedImages),
                        Landmarks = p.GetValue(landmarks),
                        CenterCrop = p.GetValue(crop),
                        Flip = !p.GetValue(noFlip),
                        View = p.GetValue(view)!,
                        Sides = p.GetValue(sides),
                        Roc = p.GetValue(roc),
                        Calibrate = p.GetValue(calibrate),
                    }
                );
                PrintEval(outcome.Evaluated, outcome.Report);
                if (outcome.Report.Detail is ClassificationResult cr)
                    Console.WriteLine(RunReport.ConfusionMarkdown(cr));
                if (outcome.Calibration is { } cal)
                    Console.WriteLine(
                        $"calibrated threshold: cos > {cal.Threshold:F4} (FAR {cal.Far:P2}, TAR {cal.Tar:P2} on "
                            + $"{cal.Pairs} pairs)"
                            + (
                                outcome.CalibrationSaved is { } saved ? $" → {saved}"
                                : p.GetValue(run) is not null ? " (not saved: --calibrate makes it the run's)"
                                : ""
                            )
                    );
                if (outcome.RocWritten is { } rocPath)
                    Console.WriteLine($"wrote {rocPath}");
                return 0;
            })
        );
        return cmd;
    }

    internal static Command CompareCommand()
    {
        var runs = new Argument<string[]>("runs")
        {
            Description = "Run directories; the first is the baseline",
            Arity = ArgumentArity.OneOrMore,
        };
        var outFile = new Option<string?>("--out") { Description = "Also write the table as markdown to this file" };
        var cmd = new Command(
            "compare",
            "Evaluate runs on the same items and test each against the first (McNemar / permutation)"
        )
        {
            runs,
            outFile,
            QuietOption,
            ThreadsOption,
        };
        cmd.SetAction(p =>
            Guard(() =>
            {
                Common(p);
                var rows = RunComparison.Compare(p.GetValue(runs)!);
                var table = new Table()
                    .AddColumn("model")
                    .AddColumn("metric")
                    .AddColumn(new TableColumn("value").RightAligned())
                    .AddColumn(new TableColumn("p vs baseline").RightAligned())
                    .AddColumn("test");
                foreach (var r in rows)
                    table.AddRow(
                        Markup.Escape(r.Name),
                        r.Metric,
                        r.Metric == "mae" ? $"{r.Value:F3}" : $"{100 * r.Value:F2} %",
                        r.PValue is { } pv
                            ? pv.ToString(pv < 1e-3 ? "0.0e+0" : "F3", CultureInfo.InvariantCulture)
                            : "—",
                        r.Test
                    );
                Out().Write(table);
                if (p.GetValue(outFile) is { } md)
                {
                    AtomicFile.WriteAllText(md, Comparison.Markdown(rows));
                    Console.WriteLine($"wrote {md}");
                }
                return 0;
            })
        );
        return cmd;
    }

    /// <summary>An evaluation's metrics as a table titled "eval <paramref name="what"/>".</summary>
    internal static void PrintEval(string what, EvalReport report)
    {
        var table = new Table()
            .Title($"[bold]eval {Markup.Escape(what)}[/]")
            .AddColumn("metric")
            .AddColumn(new TableColumn("value").RightAligned());
        AddMetrics(table, report);
        Out().Write(table);
    }

    internal static void AddMetrics(Table table, EvalReport e)
    {
        foreach (var (k, v) in e.Metrics)
        {
            string shown =
                k is "mae" or "rmse" ? v.ToString("F2", CultureInfo.InvariantCulture)
                : k == "acc_std" ? $"± {100 * v:F2} %"
                : $"{100 * v:F2} %";
            table.AddRow(Markup.Escape($"{e.Protocol} {k}"), Markup.Escape(shown));
        }
    }
}
