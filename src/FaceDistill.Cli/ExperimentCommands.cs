using System.CommandLine;
using FaceDistill.Experiments;

namespace FaceDistill.Cli;

/// <summary><c>facedistill experiment plan.json</c>: every run of an experiment over its seeds, then the comparison
/// table.</summary>
internal static class ExperimentCommands
{
    public static Command Experiment()
    {
        var plan = new Argument<string>("experiment")
        {
            Description = "Experiment file, e.g. configs/occlusion/synthetic.json",
        };
        var set = new Option<string[]>("--set")
        {
            Description = "Override a key of the base config of every run, e.g. --set train.epochs=1 (repeatable)",
        };
        var seeds = new Option<int[]>("--seeds")
        {
            Description = "Run these seeds instead of the experiment's",
            AllowMultipleArgumentsPerToken = true,
        };
        var cmd = new Command(
            "experiment",
            "Run an experiment (baseline and methods over seeds, same evaluation for all) and write its table: "
                + "results.md, results.csv, results.png"
        )
        {
            plan,
            set,
            seeds,
            Commands.RunsOption,
            Commands.QuietOption,
            Commands.ThreadsOption,
        };
        cmd.SetAction(p =>
            Commands.Guard(() =>
            {
                Commands.Common(p);
                var loaded = ExperimentPlan.Load(p.GetValue(plan)!, p.GetValue(set) ?? []);
                if (p.GetValue(seeds) is { Length: > 0 } s)
                    loaded = loaded.WithSeeds(s);
                if (loaded.Budget.Length > 0)
                    Console.Error.WriteLine($"{loaded.Name}: {loaded.Budget}");
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var result = ExperimentRunner.Run(loaded, Commands.RunsRoot(p), cancel: Commands.CtrlC());
                var md = ExperimentTable.Write(result);
                Console.WriteLine(md);
                Console.WriteLine(
                    $"wrote {Path.Combine(result.Directory, "results.md")}, results.csv, results.png, report.html "
                        + $"({clock.Elapsed:hh\\:mm\\:ss})"
                );
                return 0;
            })
        );
        return cmd;
    }
}
