using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Evaluation;
using FaceDistill.Faces;
using FaceDistill.Faces.Zoo;
using FaceDistill.Runs;
using Spectre.Console;
using Progress = FaceDistill.Core.Progress;

namespace FaceDistill.Cli;

/// <summary>Commands over the teacher zoo: <c>models verify</c>, <c>analyze</c>, <c>align</c>.</summary>
internal static class ZooCommands
{
    public static Command Verify(Option<string?> home)
    {
        var refs = new Option<string>("--refs")
        {
            Description = "The face-api reference folder (holding refs_cpu/refs.json)",
            DefaultValueFactory = _ => "../shared/reference/faceapi",
        };
        var noImages = new Option<bool>("--no-images")
        {
            Description = "Skip the demo images (fixed inputs and face tensors only)",
        };
        var humanRefs = new Option<string>("--human-refs")
        {
            Description = "The reference folder of human's graph models (refs_cpu/faceres.json, crops/)",
            DefaultValueFactory = _ => "scripts/reference/human",
        };
        var cmd = new Command(
            "verify",
            "Compare every port with the original face-api's reference outputs; exit 3 beyond tolerance"
        )
        {
            refs,
            noImages,
            humanRefs,
            home,
        };
        cmd.SetAction(p =>
            Commands.Guard(() =>
            {
                var diffs = ReferenceCheck.Run(
                    p.GetValue(refs)!,
                    p.GetValue(home),
                    !p.GetValue(noImages),
                    m => Console.Error.WriteLine($"checking {m}")
                );
                diffs.AddRange(
                    GraphReferenceCheck.All(
                        p.GetValue(humanRefs)!,
                        p.GetValue(home),
                        m => Console.Error.WriteLine($"checking {m}")
                    )
                );
                var notes = diffs.Select(d => d.Note).Where(n => n is not null).Distinct().ToList();
                Console.WriteLine($"{"net", -20} {"case", -58} {"max |diff|", 16} {"tolerance", 10}");
                foreach (var d in diffs)
                {
                    var note = d.Note is null ? "" : $" [{notes.IndexOf(d.Note) + 1}]";
                    Console.WriteLine(
                        $"{d.Net, -20} {d.Case, -58} {Fmt(d.MaxDiff) + (d.Unit.Length > 0 ? " " + d.Unit : ""), 16} "
                            + $"{(double.IsPositiveInfinity(d.Tolerance) ? "-" : Fmt(d.Tolerance)), 10}  "
                            + $"{(double.IsPositiveInfinity(d.Tolerance) ? "info" : d.Passed ? "ok" : "FAIL")}{note}"
                    );
                }
                for (int i = 0; i < notes.Count; i++)
                    Console.WriteLine($"[{i + 1}] {notes[i]}");
                var worst = diffs
                    .Where(d => !double.IsPositiveInfinity(d.Tolerance))
                    .GroupBy(d => d.Net)
                    .Select(g => $"{g.Key} {Fmt(g.Max(d => d.MaxDiff / Math.Max(d.Tolerance, 1e-12)))}×tol");
                int failed = diffs.Count(d => !d.Passed);
                Console.WriteLine(
                    $"{diffs.Count - failed}/{diffs.Count} checks within tolerance; largest difference per net "
                        + $"relative to its tolerance: {string.Join(", ", worst)}"
                );
                return failed == 0 ? 0 : 3;
            })
        );
        return cmd;
    }

    public static Command Baseline(Option<string?> home)
    {
        var kind = new Argument<string>("dataset")
        {
            Description = "lfw (pairs.txt + lfw/), fer2013 (its test/ split) or utkface",
        };
        var path = new Argument<string>("path") { Description = "The dataset folder, e.g. ../shared/datasets/lfw" };
        var limit = Commands.InRange(
            new Option<int>("--limit")
            {
                Description = "fer2013/utkface: evaluate a fixed random subset of this many images (0 = all)",
            },
            0,
            int.MaxValue,
            " (0 = all)"
        );
        var seed = new Option<int>("--seed") { Description = "Seed of the subset", DefaultValueFactory = _ => 0 };
        var roc = new Option<string?>("--roc") { Description = "lfw: write the ROC curve to this PNG" };
        var view = new Option<string?>("--view")
        {
            Description =
                "Evaluate on this view of every face instead of the clean one: occluded:mask, occluded:vr, "
                + "occluded:sunglasses, lowres:16 "
                + "(crops get their 68 landmarks from the zoo, cached in runs/.landmarks; LFW photos from the face "
                + "found on the clean photo; both sides of every pair)",
        };
        var cmd = new Command(
            "baseline",
            "Evaluate the zoo teachers on real data: LFW verification, FER2013 expression, UTKFace age/gender"
        )
        {
            kind,
            path,
            limit,
            seed,
            roc,
            view,
            DetectorOption,
            home,
            Commands.QuietOption,
        };
        cmd.SetAction(p =>
            Commands.Guard(() =>
            {
                Commands.Common(p);
                var dir = p.GetValue(path)!;
                using var zoo = new FaceAnalyzer(p.GetValue(home))
                {
                    Detector = FaceDetectors.Parse(p.GetValue(DetectorOption)!),
                };
                var started = DateTime.UtcNow;
                var faceView = p.GetValue(view) is { } v ? FaceViews.Parse(v) : null;
                var options = new TeacherBaselines.Options(View: faceView, Seed: p.GetValue(seed));
                IFaceDataset Prepared(FileFaceDataset d) =>
                    BaselineDatasets.Subset(
                        BaselineDatasets.ForView(d, faceView, p.GetValue(home)),
                        p.GetValue(limit),
                        p.GetValue(seed)
                    );
                if (faceView is not null)
                    Console.WriteLine($"view: {faceView.Name}");
                switch (p.GetValue(kind))
                {
                    case "lfw":
                    {
                        var pairs = BaselineDatasets.Lfw(dir);
                        EvalReport report;
                        int noFace;
                        using (var bar = Progress.Start("lfw", pairs.Images.Count))
                            (report, noFace) = TeacherBaselines.Verify(
                                zoo,
                                pairs,
                                options,
                                progress: new Progress<int>(i => bar.Update(i))
                            );
                        Print(report.Metrics);
                        Console.WriteLine(
                            $"{pairs.Pairs.Count} pairs, {pairs.Images.Count} images, no face detected in {noFace} "
                                + $"(whole image used); {(DateTime.UtcNow - started).TotalSeconds:F0} s"
                        );
                        if (p.GetValue(roc) is { } png)
                        {
                            RunReport.Roc((VerificationResult)report.Detail, png, "face-api recognition net on LFW");
                            Console.WriteLine($"wrote {png}");
                        }
                        break;
                    }
                    case "fer2013":
                    {
                        var data = BaselineDatasets.Fer2013(dir);
                        var sub = Prepared(data);
                        EvalReport r;
                        using (var bar = Progress.Start("fer2013", sub.Count))
                            r = TeacherBaselines.Expression(
                                zoo,
                                sub,
                                data.ClassNames,
                                data.Root,
                                options,
                                progress: new Progress<int>(i => bar.Update(i))
                            );
                        Print(r.Metrics);
                        Console.WriteLine(
                            RunReport.ConfusionMarkdown((ClassificationResult)r.Detail, FaceExpressionNet.Labels)
                        );
                        Console.WriteLine($"{sub.Count} images; {(DateTime.UtcNow - started).TotalSeconds:F0} s");
                        break;
                    }
                    case "utkface":
                    {
                        var data = Prepared(BaselineDatasets.UtkFace(dir, out int skipped));
                        (EvalReport Age, EvalReport Gender) r;
                        using (var bar = Progress.Start("utkface", data.Count))
                            r = TeacherBaselines.AgeGender(
                                zoo,
                                data,
                                options,
                                progress: new Progress<int>(i => bar.Update(i))
                            );
                        Print(r.Age.Metrics.ToDictionary(k => "age_" + k.Key, k => k.Value));
                        Print(r.Gender.Metrics.ToDictionary(k => "gender_" + k.Key, k => k.Value));
                        Console.WriteLine(
                            $"{data.Count} images ({skipped} files with malformed names skipped); "
                                + $"{(DateTime.UtcNow - started).TotalSeconds:F0} s"
                        );
                        break;
                    }
                    default:
                        throw new FaceDistillException(
                            $"dataset '{p.GetValue(kind)}' is not one of lfw, fer2013, utkface"
                        );
                }
                return 0;
            })
        );
        return cmd;
    }

    private static void Print(IReadOnlyDictionary<string, double> m) =>
        Console.WriteLine(
            string.Join("  ", m.Select(kv => $"{kv.Key}={kv.Value.ToString("0.####", CultureInfo.InvariantCulture)}"))
        );

    private static string Fmt(double v) =>
        double.IsNaN(v) ? "n/a"
        : v == 0 ? "0"
        : v.ToString(v < 0.01 || v >= 1e4 ? "0.0e0" : "0.####", CultureInfo.InvariantCulture);

    private static readonly Option<string?> HomeOption = new("--home")
    {
        Description = "Model cache folder (default $FACEDISTILL_HOME or ~/.cache/facedistill)",
    };
    private static readonly Option<string> DetectorOption = new("--detector")
    {
        Description =
            "auto (blazeface, then ssd, then tiny where the one before finds nothing), ssd (SSD MobileNetV1; the "
            + "default before the masked front end), tiny (TinyFaceDetector) or blazeface (human's BlazeFace)",
        DefaultValueFactory = _ => FaceDetectors.Default,
    };
    private static readonly Option<double> MinScoreOption = new("--min-score")
    {
        Description = "Detection score threshold",
        DefaultValueFactory = _ => 0.5,
    };

    private static FaceAnalyzer Analyzer(ParseResult p, LandmarkStudent? student = null, bool keypoints = false) =>
        p.GetValue(MinScoreOption) is var score && !(score >= 0 && score <= 1)
            ? throw new FaceDistillException($"--min-score must be in [0, 1], found {score}")
            : new(p.GetValue(HomeOption))
            {
                Detector = FaceDetectors.Parse(p.GetValue(DetectorOption)!),
                MinConfidence = p.GetValue(MinScoreOption),
                Student = student,
                AlignFromKeypoints = keypoints,
            };

    /// <summary><c>--align-from</c>: keypoints (the default) or landmarks.</summary>
    internal static Option<string> AlignFromOption()
    {
        var option = new Option<string>("--align-from")
        {
            Description =
                "keypoints: align a face BlazeFace found from its eyes, nose tip and mouth centre; landmarks: from the "
                + "five points of the 68 landmarks (the default before the masked front end)",
            DefaultValueFactory = _ => "keypoints",
        };
        option.AcceptOnlyFromAmong("keypoints", "landmarks");
        return option;
    }

    internal static bool AlignFromKeypoints(string value) => value == "keypoints";

    public static Command Probe()
    {
        var model = new Argument<string>("model")
        {
            Description = $"An imported graph net: {string.Join(", ", GraphFaceNets.All.Keys)}",
        };
        var folder = new Argument<string>("folder")
        {
            Description = "Aligned face crops, one folder per identity (e.g. ../shared/datasets/glint6)",
        };
        var perIdentity = new Option<int>("--per-identity")
        {
            Description = "Images taken from each identity folder",
            DefaultValueFactory = _ => 40,
        };
        var cmd = new Command(
            "probe",
            "Which preprocessing an imported face net expects: verification AUC on a folder of identities under "
                + "every channel order and pixel range"
        )
        {
            model,
            folder,
            perIdentity,
            HomeOption,
            Commands.QuietOption,
        };
        cmd.SetAction(p =>
            Commands.Guard(() =>
            {
                Commands.Common(p);
                var name = p.GetValue(model)!;
                if (!GraphFaceNets.All.ContainsKey(name))
                    throw new FaceDistillException(
                        $"'{name}' is not an imported graph net ({string.Join(", ", GraphFaceNets.All.Keys)})"
                    );
                using var net = GraphFaceNet.Load(name, p.GetValue(HomeOption));
                var rows = PreprocessingProbe.Run(net, p.GetValue(folder)!, p.GetValue(perIdentity));
                Console.WriteLine($"| {name}: channels | pixel range | AUC |");
                Console.WriteLine("|---|---|---:|");
                foreach (var r in rows.OrderByDescending(r => r.Auc))
                    Console.WriteLine(
                        $"| {r.Variant.Channels} | {r.Variant.Range}{(r.Shipped ? " (FaceDistill's)" : "")} | "
                            + $"{r.Auc:F4} |"
                    );
                return 0;
            })
        );
        return cmd;
    }

    public static Command Analyze()
    {
        var input = new Argument<string>("input") { Description = "An image or a folder of images" };
        var output = new Option<string?>("--out", "-o")
        {
            Description = "Write the JSON here instead of standard output",
        };
        var draw = new Option<string?>("--draw")
        {
            Description = "Write the image with boxes and landmarks (a folder when the input is a folder)",
        };
        var cmd = new Command(
            "analyze",
            "Detect faces; per face: box, 68 landmarks, 128-d descriptor, expression, age, gender (JSON)"
        )
        {
            input,
            output,
            draw,
            HomeOption,
            DetectorOption,
            MinScoreOption,
            Commands.QuietOption,
        };
        cmd.SetAction(p =>
            Commands.Guard(() =>
            {
                Commands.Common(p);
                var files = ImageFolder.List(p.GetValue(input)!);
                using var zoo = Analyzer(p);
                var drawTo = p.GetValue(draw);
                var results = new List<object>();
                int failedImages = 0;
                using (var bar = Progress.Start("analyze", files.Count))
                {
                    foreach (var (file, i) in files.Select((f, i) => (f, i)))
                    {
                        RgbImage img;
                        try
                        {
                            img = ImageCodec.Load(file);
                        }
                        catch (FaceDistillException e) when (files.Count > 1)
                        {
                            Console.Error.WriteLine($"skipped: {e.Message}");
                            failedImages++;
                            bar.Update(i + 1);
                            continue;
                        }
                        var faces = zoo.Analyze(img);
                        results.Add(FaceAnalysisJson.Image(file, img.Width, img.Height, faces));
                        if (drawTo is not null)
                        {
                            var target =
                                files.Count == 1
                                    ? drawTo
                                    : Path.Combine(drawTo, Path.ChangeExtension(Path.GetFileName(file), ".png"));
                            FaceDrawing.Save(img, faces, target);
                        }
                        bar.Update(i + 1);
                    }
                }
                var json = FaceAnalysisJson.Serialize(results, single: files.Count == 1);
                if (p.GetValue(output) is { } o)
                {
                    AtomicFile.WriteAllText(o, json + "\n");
                    Console.Error.WriteLine($"wrote {o}");
                }
                else
                    Console.WriteLine(json);
                return failedImages == 0 ? 0 : 2;
            })
        );
        return cmd;
    }

    public static Command Align()
    {
        var input = new Argument<string>("input") { Description = "A folder of face images (subfolders kept)" };
        var output = new Argument<string>("out") { Description = "Output folder (must not exist or be empty)" };
        var size = new Option<int>("--size")
        {
            Description = "Side of the aligned crops (ArcFace template scaled)",
            DefaultValueFactory = _ => 112,
        };
        var landmarksCsv = new Option<string?>("--landmarks")
        {
            Description = "Use the 68 landmarks from this CSV (path,x0,y0,…) instead of detecting",
        };
        var fallbackBox = new Option<double>("--fallback-box")
        {
            Description =
                "When no face is detected, locate the landmarks in the centred square of this fraction of the shorter "
                + "side (for datasets of face crops such as LFW; 0 = list the image as faceless)",
        };
        var pad = new Option<double>("--pad")
        {
            Description =
                "When no face is detected, detect again with a border of this fraction of the shorter side (edge "
                + "pixels repeated; for tight crops that fill the frame, e.g. 0.6), before --fallback-box",
        };
        var alignFrom = AlignFromOption();
        var student = new Option<string?>("--landmark-student")
        {
            Description =
                "Locate the 68 landmarks with this landmark student (a folder frontend distill-landmarks "
                + "wrote) instead of face-api's net",
        };
        var cmd = new Command(
            "align",
            "Write 5-point ArcFace-aligned crops of every image (the most confident face), with landmarks.csv; lists "
                + "images with no face"
        )
        {
            input,
            output,
            size,
            landmarksCsv,
            fallbackBox,
            pad,
            alignFrom,
            student,
            HomeOption,
            DetectorOption,
            MinScoreOption,
            Commands.QuietOption,
        };
        cmd.SetAction(p =>
            Commands.Guard(() =>
            {
                Commands.Common(p);
                var root = p.GetValue(input)!;
                if (!Directory.Exists(root))
                    throw FaceDistillException.ForFile(root, "no such folder");
                var outDir = p.GetValue(output)!;
                if (RunDirectory.HasRun(outDir))
                    throw FaceDistillException.ForFile(outDir, "output folder exists and is not empty");
                var known = p.GetValue(landmarksCsv) is { } csv ? LandmarkCsv.Read(csv) : null;
                var files = ImageFolder.List(root);
                using var learned = p.GetValue(student) is { } dir ? LandmarkStudent.Load(dir) : null;
                // a landmark student is there to be aligned from: its points, unless told otherwise (which is an error)
                bool keypoints = AlignFromKeypoints(p.GetValue(alignFrom)!);
                if (learned is not null && keypoints && p.GetResult(alignFrom) is { Implicit: false })
                    throw new FaceDistillException(
                        "--landmark-student aligns from the student's points: drop --align-from keypoints"
                    );
                using var zoo = Analyzer(p, learned, keypoints && learned is null);
                var fb = p.GetValue(fallbackBox);
                if (fb < 0 || fb > 1)
                    throw new FaceDistillException($"--fallback-box must be in [0, 1], got {fb}");
                if (p.GetValue(size) is < 16 or > 1024)
                    throw new FaceDistillException($"--size must be in [16, 1024], found {p.GetValue(size)}");
                if (p.GetValue(pad) is < 0 or > 2)
                    throw new FaceDistillException($"--pad must be in [0, 2], got {p.GetValue(pad)}");
                var aligner = new DatasetAligner(zoo, p.GetValue(size), fb, p.GetValue(pad));
                var report = aligner.Run(root, files, outDir, known, Commands.CtrlC());
                Console.WriteLine(
                    $"aligned {report.Aligned} of {files.Count} images into {outDir}"
                        + (
                            report.NoFace.Count > 0
                                ? $"; {report.NoFace.Count} without a face listed in "
                                    + $"{Path.Combine(outDir, "no_face.txt")}"
                                : ""
                        )
                        + (
                            report.Unreadable.Count > 0
                                ? $"; {report.Unreadable.Count} unreadable listed in "
                                    + $"{Path.Combine(outDir, "unreadable.txt")}"
                                : ""
                        )
                        + (
                            report.Fallback.Count > 0
                                ? $"; {report.Fallback.Count} with no detection aligned from the centre box, listed "
                                    + $"in {Path.Combine(outDir, "fallback.txt")}"
                                : ""
                        )
                        + (
                            report.Padded.Count > 0
                                ? $"; {report.Padded.Count} found with a border, listed in "
                                    + $"{Path.Combine(outDir, "padded.txt")}"
                                : ""
                        )
                        + (
                            report.BoxAligned.Count > 0
                                ? $"; {report.BoxAligned.Count} aligned from the box (implausible points), listed in "
                                    + $"{Path.Combine(outDir, "box_aligned.txt")}"
                                : ""
                        )
                );
                return 0;
            })
        );
        return cmd;
    }
}
