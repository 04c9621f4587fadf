using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Faces;

namespace FaceDistill.Experiments;

/// <summary>The <c>prepare</c> steps of an experiment: aligned copies of real datasets, made once.</summary>
public static class DataPreparation
{
    /// <summary>Runs an <see cref="AlignStep"/> unless its output exists: aligned into <c>out.partial</c>, then
    /// renamed, so an interrupted step is redone rather than half-used.</summary>
    public static void PrepareData(AlignStep step, Action<string> log, CancellationToken cancel = default)
    {
        if (step.Done)
            return;
        log($"prepare: aligning {step.Input} into {step.Out}");
        var tmp = step.Out.TrimEnd('/', '\\') + ".partial";
        if (Directory.Exists(tmp))
            Directory.Delete(tmp, recursive: true);
        if (Directory.Exists(step.Out) && Directory.EnumerateFileSystemEntries(step.Out).Any())
            throw FaceDistillException.ForFile(
                step.Out,
                "exists without landmarks.csv (an unfinished or foreign folder): remove it to prepare it again"
            );
        var files = ImageFolder.List(step.Input, allowFile: false);
        var known = step.Landmarks is null ? null : LandmarkCsv.Read(step.Landmarks);
        using var zoo = new FaceAnalyzer
        {
            Detector = FaceDetectors.Parse(step.Detector, "prepare.detector"),
            MinConfidence = step.MinScore,
            AlignFromKeypoints = step.AlignFrom == "keypoints",
        };
        var aligner = new DatasetAligner(zoo, step.Size, step.FallbackBox, step.Pad);
        var report = aligner.Run(step.Input, files, tmp, known, cancel);
        if (Directory.Exists(step.Out))
            Directory.Delete(step.Out);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(step.Out))!);
        Directory.Move(tmp, step.Out);
        log(
            $"prepare: {report.Aligned} of {files.Count} aligned into {step.Out}; {report.NoFace.Count} without a "
                + $"face, {report.Padded.Count} found with a border, {report.Fallback.Count} from the centre box, "
                + $"{report.BoxAligned.Count} aligned from the box, {report.Unreadable.Count} unreadable"
        );
    }
}
