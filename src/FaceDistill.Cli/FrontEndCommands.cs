using System.CommandLine;
using FaceDistill.Faces;
using Spectre.Console;
using static FaceDistill.Cli.Commands;

namespace FaceDistill.Cli;

/// <summary><c>frontend</c>: the part in front of every model (detection, landmarks, alignment) measured on its
/// own.</summary>
internal static class FrontEndCommands
{
    internal static Command FrontEnd()
    {
        var folder = new Argument<string>("folder") { Description = "A folder of photos, each showing a face" };
        var detector = new Option<string>("--detector")
        {
            Description = $"all, or one of {string.Join(", ", FaceDetectors.Names)}",
            DefaultValueFactory = _ => "all",
        };
        var minScore = new Option<double>("--min-score")
        {
            Description = "Detection score threshold",
            DefaultValueFactory = _ => 0.5,
        };
        var grid = new Option<string?>("--grid")
        {
            Description = "Write a contact sheet of the faces found (one row per detector) to this PNG",
        };
        var detect = new Command("detect", "Detection rate of each detector: photos with at least one face found")
        {
            folder,
            detector,
            minScore,
            grid,
            QuietOption,
            ThreadsOption,
        };
        detect.SetAction(p =>
            Guard(() =>
            {
                Common(p);
                var name = p.GetValue(detector)!;
                var kinds =
                    name == "all"
                        ? FaceDetectors.Names.Select(n => FaceDetectors.Parse(n)).ToList()
                        : [FaceDetectors.Parse(name)];
                var rates = DetectionSurvey.Run(p.GetValue(folder)!, kinds, p.GetValue(minScore), p.GetValue(grid));
                var table = new Table()
                    .AddColumn("detector")
                    .AddColumn(new TableColumn("photos").RightAligned())
                    .AddColumn(new TableColumn("with a face").RightAligned())
                    .AddColumn(new TableColumn("rate").RightAligned())
                    .AddColumn(new TableColumn("ms / photo").RightAligned());
                foreach (var r in rates)
                    table.AddRow(
                        r.Detector,
                        $"{r.Photos}",
                        $"{r.WithFace}",
                        $"{100 * r.Rate:F1} %",
                        $"{r.MillisecondsPerPhoto:F0}"
                    );
                Out().Write(table);
                if (p.GetValue(grid) is { } g)
                    Console.WriteLine($"wrote {g}");
                return 0;
            })
        );
        return new Command("frontend", "The front end (detection, landmarks, alignment) measured on its own")
        {
            detect,
        };
    }
}
