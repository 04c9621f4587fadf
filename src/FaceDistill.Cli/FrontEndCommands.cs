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
                        ? [FaceDetectorKind.Ssd, FaceDetectorKind.Tiny, FaceDetectorKind.BlazeFace]
                        : new List<FaceDetectorKind> { FaceDetectors.Parse(name) };
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
        var clean = new Argument<string>("clean") { Description = "A folder of clean photos" };
        var occluded = new Option<string?>("--occluded")
        {
            Description = "The same photos with an occluder drawn on them (same relative paths), e.g. occlude's --out",
        };
        var scale = new Option<double>("--scale")
        {
            Description = "Without --occluded: compare each clean photo with itself resized by this factor",
            DefaultValueFactory = _ => 0.75,
        };
        var studentDir = new Option<string?>("--student")
        {
            Description = "Also measure this landmark student (a folder distill-landmarks wrote) on BlazeFace's box",
        };
        var sourcesOption = new Option<string?>("--sources")
        {
            Description = "Only these sources, comma-separated (e.g. \"blazeface keypoints,blazeface + student\")",
        };
        var landmarks = new Command(
            "landmarks",
            "How far each front end's eye, nose and mouth points move when an occluder is drawn (or the scale changes)"
        )
        {
            clean,
            occluded,
            scale,
            minScore,
            studentDir,
            sourcesOption,
            QuietOption,
            ThreadsOption,
        };
        landmarks.SetAction(p =>
            Guard(() =>
            {
                Common(p);
                var errors = LandmarkSurvey.Run(
                    p.GetValue(clean)!,
                    p.GetValue(occluded),
                    p.GetValue(scale),
                    p.GetValue(minScore),
                    student: p.GetValue(studentDir),
                    only: p.GetValue(sourcesOption)?.Split(',', StringSplitOptions.TrimEntries)
                );
                var table = new Table()
                    .AddColumn("landmarks")
                    .AddColumn(new TableColumn("faces").RightAligned())
                    .AddColumn(new TableColumn("lost").RightAligned())
                    .AddColumn(new TableColumn("NME mean").RightAligned())
                    .AddColumn(new TableColumn("median").RightAligned())
                    .AddColumn(new TableColumn("90th pct.").RightAligned());
                foreach (var e in errors)
                    table.AddRow(
                        e.Source,
                        $"{e.Faces}",
                        $"{e.Lost}",
                        $"{e.MeanNme:F3}",
                        $"{e.MedianNme:F3}",
                        $"{e.P90Nme:F3}"
                    );
                Out().Write(table);
                return 0;
            })
        );
        return new Command("frontend", "The front end (detection, landmarks, alignment) measured on its own")
        {
            detect,
            landmarks,
            DistillLandmarks(),
            MaskGap(),
        };
    }

    private static Command MaskGap()
    {
        var real = new Argument<string>("real")
        {
            Description = "Aligned crops of real masked faces (e.g. rmfd-sample)",
        };
        var clean = new Option<string>("--clean")
        {
            Description = "Aligned clean crops with landmarks.csv (align's output) to draw the occluders on",
            Required = true,
        };
        var model = new Option<string>("--model")
        {
            Description = "The embedding models, comma-separated: zoo:<net>, a file.onnx or onnx:<file>?options",
            DefaultValueFactory = _ => "zoo:mobileface,zoo:faceres",
        };
        var occluders = new Option<string>("--occluders")
        {
            Description = "Comma-separated occluders to compare (mask:surgical, mask:varied, scarf, …)",
            DefaultValueFactory = _ => "mask:surgical,mask:n95,mask:cloth,mask:varied,scarf,hand",
        };
        var limit = new Option<int>("--limit")
        {
            Description = "Crops of each set (a fixed random subset)",
            DefaultValueFactory = _ => 1000,
        };
        var seed = new Option<int>("--seed")
        {
            Description = "Seed of the random subsets (and so of the faces the occluders are drawn on)",
            DefaultValueFactory = _ => 1,
        };
        var plot = new Option<string?>("--plot") { Description = "Also draw the ratios to none as bars in this PNG" };
        var command = new Command(
            "mask-gap",
            "How far drawn occluders are from real masks, without labels: the Fréchet distance of the embeddings"
        )
        {
            real,
            clean,
            model,
            occluders,
            limit,
            seed,
            plot,
            QuietOption,
            ThreadsOption,
        };
        command.SetAction(p =>
            Guard(() =>
            {
                Common(p);
                var report = Runs.MaskDomainGap.Measure(
                    new Runs.MaskGapOptions(
                        p.GetValue(real)!,
                        p.GetValue(clean)!,
                        p.GetValue(model)!
                            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                        p.GetValue(occluders)!
                            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                        p.GetValue(limit),
                        p.GetValue(seed)
                    )
                    {
                        Plot = p.GetValue(plot),
                    }
                );
                var table = new Table()
                    .AddColumn("model")
                    .AddColumn("drawn on the clean crops")
                    .AddColumn(new TableColumn("crops").RightAligned())
                    .AddColumn(new TableColumn("Fréchet distance to the real masks").RightAligned())
                    .AddColumn(new TableColumn("÷ none").RightAligned());
                foreach (var r in report.Rows)
                    table.AddRow(r.Model, r.Occluder, $"{r.Crops}", $"{r.Frechet:F4}", $"{r.OfClean:F3}");
                Out().Write(table);
                foreach (var (m, floor) in report.RealHalves)
                    Console.WriteLine(
                        $"{m}: {report.RealCrops} real masked crops; between two random halves of them: {floor:F4}"
                    );
                if (p.GetValue(plot) is { } png)
                    Console.WriteLine($"wrote {png}");
                return 0;
            })
        );
        return command;
    }

    private static Command DistillLandmarks()
    {
        var folder = new Argument<string>("folder")
        {
            Description = "Face photos with the teacher's 68 points in landmarks.csv (celeba299, or align's output)",
        };
        var output = new Option<string>("--out") { Description = "The student's folder", Required = true };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 30 };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 64 };
        var lr = new Option<double>("--lr")
        {
            Description = "Peak learning rate (AdamW)",
            DefaultValueFactory = _ => 2e-3,
        };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var command = new Command(
            "distill-landmarks",
            "Train a small landmark student on occluded views to put the teacher's clean-face points"
        )
        {
            folder,
            output,
            epochs,
            batch,
            lr,
            seed,
            ResumeOption,
            QuietOption,
            ThreadsOption,
        };
        command.SetAction(p =>
            Guard(() =>
            {
                Common(p);
                var report = Runs.LandmarkDistillation.Run(
                    new Runs.LandmarkDistillOptions(
                        p.GetValue(folder)!,
                        p.GetValue(output)!,
                        p.GetValue(epochs),
                        p.GetValue(batch),
                        p.GetValue(lr),
                        Seed: p.GetValue(seed),
                        Resume: p.GetValue(ResumeOption)
                    )
                );
                var last = report.Epochs[^1];
                Console.WriteLine(
                    $"trained on {report.Train} photos, {report.HeldOut} held out; median NME on the held-out photos: "
                        + string.Join(", ", last.MedianNme.Select(kv => $"{kv.Key} {kv.Value?.ToString("F3") ?? "—"}"))
                );
                if (report.RefinedNme is { } refined)
                    Console.WriteLine(
                        "looking twice (the second crop from its own points): "
                            + string.Join(", ", refined.Select(kv => $"{kv.Key} {kv.Value?.ToString("F3") ?? "—"}"))
                    );
                Console.WriteLine($"wrote {report.Out}");
                return 0;
            })
        );
        return command;
    }
}
