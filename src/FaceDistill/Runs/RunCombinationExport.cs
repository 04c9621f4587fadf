using System.Globalization;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Export;

namespace FaceDistill.Runs;

/// <summary>Trained recognition runs exported as their combination, one ONNX graph
/// (<see cref="CombinationOnnxExport"/>): every run must be a recognition run evaluated with the same centre crop (the
/// graph's one input is cropped once). Each run's latest checkpoint.</summary>
public static class RunCombinationExport
{
    public static OnnxExportResult Export(IReadOnlyList<string> runDirs, string outPath)
    {
        var runs = new List<TrainedRun>();
        try
        {
            foreach (var dir in runDirs)
            {
                var r = TrainedRun.Load(dir);
                runs.Add(r);
                if (r.Task != FaceTask.Recognition)
                    throw FaceDistillException.ForFile(
                        dir,
                        $"a {r.Config.Task} run: only recognition runs combine into one graph (an attribute "
                            + "combination ends in a linear model fitted on the training images)"
                    );
                if (CenterCrop(r) != CenterCrop(runs[0]))
                    throw FaceDistillException.ForFile(
                        dir,
                        $"eval.centerCrop {CenterCrop(r)} differs from {runDirs[0]}'s {CenterCrop(runs[0])}: the "
                            + "graph's one input is cropped once"
                    );
            }
            // the output's folder is made as `mkdir -p` would, once the runs have loaded (a refused run leaves none)
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
            var metadata = new Dictionary<string, string>
            {
                ["facedistill.run"] = string.Join(
                    "+",
                    runDirs.Select(d => Path.GetFileName(Path.GetFullPath(d).TrimEnd('/')))
                ),
                ["facedistill.checkpoint"] = string.Join(
                    ",",
                    runs.Select(r => Path.GetRelativePath(r.Directory, r.CheckpointPath))
                ),
                ["facedistill.center_crop"] = CenterCrop(runs[0]),
            };
            return CombinationOnnxExport.Export(runs.Select(r => r.Model).ToList(), outPath, metadata);
        }
        finally
        {
            foreach (var r in runs)
                r.Dispose();
        }
    }

    private static string CenterCrop(TrainedRun r) =>
        r.Config.Eval.CenterCrop.ToString("R", CultureInfo.InvariantCulture);
}
