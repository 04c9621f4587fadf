using System.CommandLine;
using System.Globalization;
using FaceDistill.Core;
using FaceDistill.Evaluation;
using FaceDistill.Runs;
using Spectre.Console;
using static FaceDistill.Cli.Commands;

namespace FaceDistill.Cli;

/// <summary><c>demo</c> and <c>train</c>: one run end to end (<see cref="TrainingRun"/>), its outcome as a
/// table.</summary>
internal static class TrainCommands
{
    internal static Command DemoCommand()
    {
        var quick = new Option<bool>("--quick") { Description = "A smaller run that finishes in under a minute" };
        var cmd = new Command(
            "demo",
            "Train a small recognizer (MobileFaceNet + ArcFace) on synthetic faces and verify on held-out identities"
        )
        {
            quick,
            RunsOption,
            ForceOption,
            ResumeOption,
            QuietOption,
            ThreadsOption,
        };
        cmd.SetAction(p =>
            Guard(() =>
            {
                Common(p);
                var cfg = Demo.Config(p.GetValue(quick));
                var mode = Mode(p);
                var runs = RunsRoot(p);
                if (mode == ExistingRun.Refuse && RunDirectory.HasRun(Path.Combine(runs, cfg.Name)))
                {
                    // the demo is a demonstration: a fresh run each time, the old one moved aside
                    mode = ExistingRun.Force;
                }
                Console.WriteLine($"FaceDistill demo: {cfg.Description}");
                Console.WriteLine(
                    $"  {cfg.Data.Synthetic.Identities} training identities × {cfg.Data.Synthetic.ImagesPerIdentity} "
                        + $"images, "
                        + $"{cfg.Data.Synthetic.ValIdentities} held-out identities, "
                        + $"{cfg.Data.ImageSize}×{cfg.Data.ImageSize} px, {cfg.Train.Epochs} epochs"
                );
                var outcome = TrainingRun.Execute(cfg, runs, mode, cancel: CtrlC());
                PrintOutcome(outcome);
                return outcome.Result.Interrupted ? 130 : 0;
            })
        );
        return cmd;
    }

    internal static Command TrainCommand()
    {
        var config = new Argument<string>("config")
        {
            Description = "Experiment config (JSON or YAML), e.g. configs/recognition/synthetic.json",
        };
        var set = new Option<string[]>("--set")
        {
            Description = "Override a config key, e.g. --set train.epochs=3 (repeatable)",
            AllowMultipleArgumentsPerToken = false,
        };
        var cmd = new Command("train", "Train a model from an experiment config")
        {
            config,
            set,
            RunsOption,
            ForceOption,
            ResumeOption,
            QuietOption,
            ThreadsOption,
        };
        cmd.SetAction(p =>
            Guard(() =>
            {
                Common(p);
                var cfg = RunConfig.Load(p.GetValue(config), p.GetValue(set) ?? []);
                var outcome = TrainingRun.Execute(cfg, RunsRoot(p), Mode(p), cancel: CtrlC());
                PrintOutcome(outcome);
                return outcome.Result.Interrupted ? 130 : 0;
            })
        );
        return cmd;
    }

    private static void PrintOutcome(RunOutcome o)
    {
        var r = o.Result;
        if (r.Interrupted)
        {
            Console.WriteLine($"stopped at step {r.Steps}; checkpoint {r.LastCheckpoint}");
            return;
        }
        var table = new Table()
            .Title($"[bold]{Markup.Escape(Path.GetFileName(o.Run.Path))}[/]")
            .AddColumn("metric")
            .AddColumn(new TableColumn("value").RightAligned());
        table.AddRow(
            "backbone",
            Markup.Escape(
                $"{o.Stats.Name} ({o.Stats.Parameters / 1e6:F2} M params, {o.Stats.Flops / 1e6:F0} MFLOPs @ "
                    + $"{o.Stats.InputSize}px)"
            )
        );
        table.AddRow("training images", o.Data.Train.Count.ToString(CultureInfo.InvariantCulture));
        table.AddRow("steps", r.Steps.ToString(CultureInfo.InvariantCulture));
        table.AddRow("final loss", r.FinalLoss.ToString("F4", CultureInfo.InvariantCulture));
        table.AddRow("time", r.Elapsed.ToString(@"mm\:ss", CultureInfo.InvariantCulture));
        if (r.FinalEval is { } e)
            EvalCommands.AddMetrics(table, e);
        Out().Write(table);
        Console.WriteLine($"run directory: {o.Run.Path} (report.md, metrics.csv, checkpoints/)");
        if (File.Exists(Path.Combine(o.Run.Path, RunHtmlReport.FileName)))
            Console.WriteLine($"report: {Path.Combine(o.Run.Path, RunHtmlReport.FileName)} (open it in a browser)");
    }
}
