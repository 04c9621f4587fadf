using FaceDistill.Core;
using FaceDistill.Evaluation;
using FaceDistill.Runs;

namespace FaceDistill.Tests;

/// <summary><c>facedistill eval</c>'s work in the library (<see cref="ModelEvaluation"/>): the run's own protocol, the
/// threshold calibrated on its pairs (saved only when asked), the ROC curve, and every bad request refused before
/// any work with one line naming the option.</summary>
public class ModelEvaluationTests
{
    [Fact]
    public void ARunIsEvaluatedByItsOwnProtocolAndCalibratedOnlyWhenAsked()
    {
        var root = TestUtil.TempDir();
        var run = TestUtil.TrainTiny(root, "tiny");
        File.Delete(Path.Combine(run, Calibration.FileName)); // the training's own, so a save is visible
        var plain = ModelEvaluation.Evaluate(new EvalRequest { Run = run });
        Assert.Equal("verification", plain.Report.Protocol);
        Assert.StartsWith(Path.Combine(run, "checkpoints"), plain.Evaluated);
        Assert.NotNull(plain.Calibration);
        Assert.Null(plain.CalibrationSaved);
        Assert.Null(plain.RocWritten);
        Assert.False(File.Exists(Path.Combine(run, Calibration.FileName)));

        var roc = Path.Combine(root, "out", "roc.png");
        var saved = ModelEvaluation.Evaluate(
            new EvalRequest
            {
                Run = run,
                Calibrate = true,
                Roc = roc,
            }
        );
        Assert.Equal(plain.Report.Metrics, saved.Report.Metrics); // the same evaluation, deterministic
        Assert.Equal(Path.Combine(run, Calibration.FileName), saved.CalibrationSaved);
        Assert.Equal(plain.Calibration!.Threshold, Calibration.Load(run)!.Threshold);
        Assert.Equal(roc, saved.RocWritten);
        Assert.True(new FileInfo(roc).Length > 0);

        var noFlip = ModelEvaluation.Evaluate(new EvalRequest { Run = run, Flip = false });
        Assert.NotEqual(plain.Report.Metrics["auc"], noFlip.Report.Metrics["auc"]);
    }

    [Fact]
    public void BadRequestsAreOneLineErrorsNamingTheOption()
    {
        var root = TestUtil.TempDir();
        string Err(EvalRequest r) => Assert.Throws<FaceDistillException>(() => ModelEvaluation.Evaluate(r)).Message;
        Assert.Contains("--run <dir> or --model", Err(new EvalRequest()));
        Assert.Contains("without --run", Err(new EvalRequest { Model = "zoo:faceres", Run = root }));
        Assert.Contains("--center-crop", Err(new EvalRequest { Run = root, CenterCrop = 0 }));
        Assert.Contains("--sides", Err(new EvalRequest { Run = root, Sides = "left" }));
        Assert.Contains("--roc", Err(new EvalRequest { Run = root, Roc = root }));
        Assert.Contains("--pairs and --images", Err(new EvalRequest { Model = "zoo:faceres" }));
        Assert.Contains("export --calibrate", Err(new EvalRequest { Model = "zoo:faceres", Calibrate = true }));
        Assert.Contains("not a FaceDistill run", Err(new EvalRequest { Run = root }));
    }
}
