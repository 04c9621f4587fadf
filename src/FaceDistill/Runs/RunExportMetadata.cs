using System.Globalization;

namespace FaceDistill.Runs;

/// <summary>What an exported ONNX file records of the run(s) it came from (<c>facedistill.run</c>,
/// <c>facedistill.checkpoint</c>, <c>facedistill.center_crop</c>): one run, or a combination's runs joined.</summary>
public static class RunExportMetadata
{
    public static string Name(TrainedRun r) => Path.GetFileName(Path.GetFullPath(r.Directory).TrimEnd('/'));

    public static string CenterCrop(TrainedRun r) =>
        r.Config.Eval.CenterCrop.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The runs' entries; a combination's runs share their centre crop (checked by the caller).</summary>
    public static Dictionary<string, string> Of(IReadOnlyList<TrainedRun> runs) =>
        new()
        {
            ["facedistill.run"] = string.Join("+", runs.Select(Name)),
            ["facedistill.checkpoint"] = string.Join(
                ",",
                runs.Select(r => Path.GetRelativePath(r.Directory, r.CheckpointPath))
            ),
            ["facedistill.center_crop"] = CenterCrop(runs[0]),
        };
}
