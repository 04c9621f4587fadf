using System.CommandLine;
using System.Globalization;
using FaceDistill.Core;
using FaceDistill.Data.Synthetic;
using FaceDistill.Evaluation;
using FaceDistill.Faces;
using FaceDistill.Runs;
using Spectre.Console;
using static FaceDistill.Cli.Commands;

namespace FaceDistill.Cli;

/// <summary><c>synth</c>: synthetic faces written to disk.</summary>
internal static class SynthCommands
{
    internal static Command SynthCommand()
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
                    CheckImageOutput(gridOut, "--grid");
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
