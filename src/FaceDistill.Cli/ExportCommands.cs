using System.CommandLine;
using System.Globalization;
using FaceDistill.Core;
using FaceDistill.Evaluation;
using FaceDistill.Export;
using FaceDistill.Graphs.Onnx;
using FaceDistill.Runs;

namespace FaceDistill.Cli;

/// <summary><c>facedistill export --run runs/x --out x.onnx</c>: a trained model as an ONNX file, checked in ONNX
/// Runtime; <c>--run a --run b</c>: the recognition runs' combination as one file
/// (<see cref="CombinationOnnxExport"/>).</summary>
internal static class ExportCommands
{
    public static Command Export()
    {
        var run = new Option<string[]>("--run")
        {
            Description =
                "Run directory (its config.json and latest checkpoint); given twice or more, the recognition runs' "
                + "combination (unit embeddings concatenated, / sqrt(k)) as one graph",
            Required = true,
        };
        var checkpoint = new Option<string?>("--checkpoint")
        {
            Description = "A checkpoint directory or model.bin (default: the run's latest)",
        };
        var output = new Option<string>("--out") { Description = "The .onnx file to write", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace the file if it exists" };
        var calibrate = new Option<bool>("--calibrate")
        {
            Description =
                "With several --run: verify the combination on the first run's pairs and view and store its "
                + "threshold in the file (what serve uses; a single run's export carries its own calibration.json)",
        };
        var cmd = new Command(
            "export",
            "Export a trained model to ONNX (input [N,3,S,S] RGB in [-1,1]; outputs embedding, and logits or age for "
                + "attribute tasks), checked against TorchSharp in ONNX Runtime"
        )
        {
            run,
            checkpoint,
            output,
            force,
            calibrate,
            Commands.QuietOption,
            Commands.ThreadsOption,
        };
        cmd.SetAction(p =>
            Commands.Guard(() =>
            {
                Commands.Common(p);
                var outPath = p.GetValue(output)!;
                if (File.Exists(outPath) && !p.GetValue(force))
                    throw FaceDistillException.ForFile(outPath, "exists; give --force to replace it");
                var runDirs = p.GetValue(run)!;
                if (runDirs.Length > 1)
                {
                    if (p.GetValue(checkpoint) is not null)
                        throw new FaceDistillException(
                            "--checkpoint names one run's checkpoint: give it with a single --run"
                        );
                    var (combined, calibration) = RunCombinationExport.Export(runDirs, outPath, p.GetValue(calibrate));
                    Print(combined, outPath);
                    if (calibration is { } c)
                        Console.WriteLine(
                            $"calibrated threshold (in the file): cos > {c.Threshold:F4}, FAR {c.Far:P2}, TAR "
                                + $"{c.Tar:P2} on {c.Pairs} pairs ({c.Source})"
                        );
                    return 0;
                }
                if (p.GetValue(calibrate))
                    throw new FaceDistillException(
                        "--calibrate is for a combination (several --run); a single run's export carries its "
                            + "calibration.json (eval --calibrate replaces it)"
                    );
                var runDir = runDirs[0];
                using var trained = TrainedRun.Load(runDir, checkpoint: p.GetValue(checkpoint));
                // the output's folder is made as `mkdir -p` would, once the run has loaded (a refused run leaves none)
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
                var metadata = RunExportMetadata.Of([trained]);
                if (Calibration.Load(runDir) is { } cal)
                    foreach (var (k, v) in cal.ToMetadata())
                        metadata[k] = v;
                var result = OnnxExport.Export(trained.Model, trained.Task, outPath, metadata);
                Print(result, outPath);
                return 0;
            })
        );
        return cmd;
    }

    private static void Print(OnnxExportResult result, string outPath)
    {
        Console.WriteLine(
            $"wrote {outPath} ({result.Bytes / 1e6:F1} MB, opset {OnnxGraph.Opset}): outputs "
                + $"{string.Join(", ", result.Outputs.Select(o => $"{o.Name} [N, {o.Width}]"))}; "
                + $"ONNX Runtime vs TorchSharp: max relative difference {result.MaxDifference:G2}"
        );
        Console.WriteLine(
            $"as a teacher: distill.teacher = \"onnx:{outPath}\" (input {result.InputSize}×{result.InputSize}, read "
                + "from the file)"
        );
    }
}
