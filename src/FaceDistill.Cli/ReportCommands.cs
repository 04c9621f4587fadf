using System.CommandLine;
using System.Globalization;
using FaceDistill.Core;
using FaceDistill.Evaluation;
using FaceDistill.Experiments;
using FaceDistill.Runs;
using Spectre.Console;
using static FaceDistill.Cli.Commands;

namespace FaceDistill.Cli;

/// <summary><c>report</c> (a run's or an experiment's report.html rebuilt) and <c>config keys</c> (the key
/// reference).</summary>
internal static class ReportCommands
{
    internal static Command ReportCommand()
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

    internal static Command ConfigCommand()
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
}
