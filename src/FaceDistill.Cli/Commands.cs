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

/// <summary>The command line's root and what every command shares: options, set-up, errors as one line, Ctrl+C.
/// Each command group lives in its own <c>*Commands.cs</c> file.</summary>
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
    internal static void CheckWritable(string path, string option) => AtomicFile.CheckWritable(path, option);

    /// <summary>An image output (a contact sheet): a .png or .jpg path that can be written.</summary>
    internal static void CheckImageOutput(string path, string option)
    {
        AtomicFile.CheckWritable(path, option);
        Plots.BitmapFile.CheckPath(path, option);
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
    internal static readonly Option<bool> ForceOption = new("--force")
    {
        Description = "Start over if the run directory exists (the old run is moved aside)",
    };
    internal static readonly Option<bool> ResumeOption = new("--resume")
    {
        Description = "Continue the run from its last checkpoint",
    };
    internal static readonly Option<bool> QuietOption = new("--quiet", "-q") { Description = "No progress bars" };
    internal static readonly Option<string?> DeviceOption = new("--device")
    {
        Description = "Where models run: cpu (default), cuda or cuda:<index> (needs CUDA packages: docs/scaling.md)",
        Recursive = true,
    };
    internal static readonly Option<int> ThreadsOption = InRange(
        new Option<int>("--threads") { Description = "libtorch threads (0 = all cores)" },
        0,
        1024,
        " (0 = all cores)"
    );

    /// <summary>An integer option whose value outside [min, max] is a parse error: one line, exit 2.</summary>
    internal static Option<int> InRange(Option<int> option, int min, int max, string note = "")
    {
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && r.GetValueOrDefault<int>() is var v && (v < min || v > max))
                r.AddError($"{option.Name} must be in [{min}, {max}]{note}, found {v}");
        });
        return option;
    }

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
        root.Subcommands.Add(TrainCommands.DemoCommand());
        root.Subcommands.Add(TrainCommands.TrainCommand());
        root.Subcommands.Add(EvalCommands.EvalCommand());
        root.Subcommands.Add(EvalCommands.CompareCommand());
        root.Subcommands.Add(ExperimentCommands.Experiment());
        root.Subcommands.Add(ExportCommands.Export());
        root.Subcommands.Add(ModelsCommands.ModelsCommand());
        root.Subcommands.Add(SynthCommands.SynthCommand());
        root.Subcommands.Add(OcclusionCommands.Occlude());
        root.Subcommands.Add(ZooCommands.Analyze());
        root.Subcommands.Add(ZooCommands.Align());
        root.Subcommands.Add(ServeCommands.Serve());
        root.Subcommands.Add(FrontEndCommands.FrontEnd());
        root.Subcommands.Add(ReportCommands.ReportCommand());
        root.Subcommands.Add(ReportCommands.ConfigCommand());
        return root;
    }

    internal static ExistingRun Mode(ParseResult p) =>
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
}
