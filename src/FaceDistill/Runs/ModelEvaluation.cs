using System.Globalization;
using FaceDistill.Core;
using FaceDistill.Evaluation;

namespace FaceDistill.Runs;

/// <summary>What <c>facedistill eval</c> is asked: a run (<see cref="Run"/>, optionally at <see cref="Checkpoint"/>)
/// or a model that is not a run (<see cref="Model"/>: an exported file.onnx, <c>onnx:…</c> or <c>zoo:…</c>), and the
/// evaluation's pairs, view and outputs. Unset options keep the run's own evaluation settings.</summary>
public sealed record EvalRequest
{
    public string? Run { get; init; }
    public string? Model { get; init; }
    public string? Checkpoint { get; init; }
    public string? Pairs { get; init; }
    public string? Images { get; init; }

    /// <summary>The raw-photo protocol: the pair images as the front end aligned them from photos occluded before it
    /// ran (same relative paths as <see cref="Images"/>); the sides <see cref="Sides"/> names are read from here.
    /// Only with <see cref="Model"/>.</summary>
    public string? OccludedImages { get; init; }
    public string? Landmarks { get; init; }
    public double CenterCrop { get; init; } = 1.0;
    public bool Flip { get; init; } = true;
    public string View { get; init; } = "clean";

    /// <summary>one | both: the sides of every pair the view degrades (null: the run's <c>eval.pairSides</c>; for a
    /// model, both).</summary>
    public string? Sides { get; init; }

    /// <summary>Write the ROC curve (verification) to this PNG.</summary>
    public string? Roc { get; init; }

    /// <summary>Save the calibrated threshold as the run's calibration.json (what export and serve read).</summary>
    public bool Calibrate { get; init; }
}

/// <summary>An evaluation's outcome: what was evaluated (a checkpoint or a model file), its report, the threshold
/// calibrated on its pairs (verification), and the files written.</summary>
public sealed record EvalOutcome(
    string Evaluated,
    EvalReport Report,
    Calibration? Calibration,
    string? CalibrationSaved,
    string? RocWritten
);

/// <summary><c>facedistill eval</c>: a run's model on its own protocol (<see cref="Protocols"/>) with the request's
/// pairs and view, or a model verified as it is (<see cref="ModelVerification"/>); for verification the threshold
/// that maximises accuracy on the pairs (<see cref="Calibration"/>, saved on request) and the ROC curve. Every option
/// is checked before any work; a problem is one line naming it.</summary>
public static class ModelEvaluation
{
    public static EvalOutcome Evaluate(EvalRequest r)
    {
        if (r.Model is not null && (r.Run ?? r.Checkpoint) is not null)
            throw new FaceDistillException("--model verifies a file or a zoo net: without --run or --checkpoint");
        if (r.Run is not null && !(r.CenterCrop > 0 && r.CenterCrop <= 1))
            throw new FaceDistillException($"--center-crop must be in (0, 1], found {r.CenterCrop}");
        if (r.Sides is not (null or "one" or "both"))
            throw new FaceDistillException($"--sides must be one or both, found '{r.Sides}'");
        if (r.Roc is { } roc)
        {
            AtomicFile.CheckWritable(roc, "--roc");
            Plots.BitmapFile.CheckPath(roc, "--roc", pngOnly: true);
        }
        return r.Model is { } model ? OfModel(model, r)
            : r.Run is { } run ? OfRun(run, r)
            : throw new FaceDistillException("eval needs --run <dir> or --model <file.onnx>");
    }

    private static EvalOutcome OfRun(string runDir, EvalRequest r)
    {
        if (r.OccludedImages is not null)
            throw new FaceDistillException(
                "--images-occluded applies to --model (export the run to ONNX and verify the file)"
            );
        var overrides = new List<string> { $"eval.view={r.View}" };
        if (r.Pairs is { } pairs)
        {
            if (r.Images is not { } images)
                throw new FaceDistillException("--pairs needs --images (the folder the pair list refers to)");
            overrides.Add($"eval.pairs={pairs}");
            overrides.Add($"eval.images={images}");
            overrides.Add($"eval.centerCrop={r.CenterCrop.ToString(CultureInfo.InvariantCulture)}");
        }
        if (r.Landmarks is { } landmarks)
            overrides.Add($"eval.landmarks={landmarks}");
        if (!r.Flip)
            overrides.Add("eval.flip=false");
        if (r.Sides is { } sides)
            overrides.Add($"eval.pairSides={sides}");
        using var trained = TrainedRun.Load(runDir, overrides, r.Checkpoint);
        var evaluate =
            Protocols.For(trained.Config, trained.Task, trained.Data).Evaluate
            ?? throw FaceDistillException.ForFile(
                Path.Combine(runDir, "config.json"),
                "nothing to evaluate on (give --pairs/--images for recognition)"
            );
        var report = evaluate(trained.Model);
        if (r.Roc is not null && report.Detail is not VerificationResult)
            throw new FaceDistillException("--roc applies to verification only");
        Calibration? calibration = null;
        string? saved = null;
        if (report.Detail is VerificationResult vr)
        {
            var e = trained.Config.Eval;
            calibration = Calibration.From(vr, $"{e.Pairs ?? "the run's pairs"} ({e.View}, {e.PairSides} side(s))");
            if (r.Calibrate)
            {
                calibration.Save(runDir);
                saved = Path.Combine(runDir, Calibration.FileName);
            }
        }
        return new EvalOutcome(
            trained.CheckpointPath,
            report,
            calibration,
            saved,
            WriteRoc(report, r.Roc, Path.GetFileName(runDir.TrimEnd('/')))
        );
    }

    private static EvalOutcome OfModel(string model, EvalRequest r)
    {
        if (r.Calibrate)
            throw new FaceDistillException(
                "--calibrate saves a run's threshold (--run); a combination's goes into its file: export --calibrate"
            );
        if (r.Pairs is not { } pairs || r.Images is not { } images)
            throw new FaceDistillException("--model needs --pairs and --images (the folder the pair list refers to)");
        var options = new ModelVerificationOptions(
            pairs,
            images,
            r.Landmarks,
            r.View,
            r.Sides == "one",
            r.CenterCrop,
            r.Flip
        )
        {
            OccludedImages = r.OccludedImages,
        };
        var report = ModelVerification.Verify(model, options); // checks the model and the files first
        var vr = (VerificationResult)report.Detail!;
        var calibration = Calibration.From(
            vr,
            $"{pairs} ({options.View}, {(options.OneSide ? "one" : "both")} side(s))"
        );
        return new EvalOutcome(
            Path.GetFileName(model),
            report,
            calibration,
            null,
            WriteRoc(report, r.Roc, Path.GetFileName(model))
        );
    }

    private static string? WriteRoc(EvalReport report, string? path, string name)
    {
        if (path is null || report.Detail is not VerificationResult vr)
            return null;
        RunReport.Roc(vr, path, $"ROC — {name}");
        return path;
    }
}
