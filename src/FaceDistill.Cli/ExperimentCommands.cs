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
            Description = "Run these seeds instead of the experiment's (space-separated or repeated: --seeds 1 2)",
            AllowMultipleArgumentsPerToken = true,
        };
        var only = new Option<string[]>("--only")
        {
            Description =
                "Run only these rows (comma-separated or repeated) and the runs they need; the table goes to "
                + "results-only.md",
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
            only,
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
                if (p.GetValue(only) is { Length: > 0 } rows)
                    loaded = loaded.Only(
                        rows.SelectMany(x => x.Split(',', StringSplitOptions.RemoveEmptyEntries)).ToList()
                    );
                if (loaded.Budget.Length > 0)
                    Console.Error.WriteLine($"{loaded.Name}: {loaded.Budget}");
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var result = ExperimentRunner.Run(loaded, Commands.RunsRoot(p), cancel: Commands.CtrlC());
                var md = ExperimentTable.Write(result);
                Console.WriteLine(md);
                Console.WriteLine(
                    loaded.Subset is null
                        ? $"wrote {Path.Combine(result.Directory, "results.md")}, results.csv, results.png, "
                            + $"report.html ({clock.Elapsed:hh\\:mm\\:ss})"
                        : $"wrote {Path.Combine(result.Directory, "results-only.md")}, results-only.csv, "
                            + $"results-only.png ({clock.Elapsed:hh\\:mm\\:ss})"
                );
                return 0;
            })
        );
        return cmd;
    }
}
