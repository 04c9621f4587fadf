using FaceDistill.Evaluation;
using FaceDistill.Runs;

namespace FaceDistill.Tests;

/// <summary><c>eval --model</c>: an exported ONNX file verified as it is, by the protocol a run's evaluation
/// uses.</summary>
public class ModelVerificationTests
{
    [Fact]
    public void AnExportedFileVerifiesAsItsRunOnTheSamePairsAndViewAndBadArgumentsAreOneLine()
    {
        var root = TestUtil.TempDir();
        string run = TestUtil.TrainTiny(root, "a"),
            onnx = Path.Combine(root, "a.onnx");
        var (code, output, err) = CliHarness.Run("export", "--run", run, "--out", onnx);
        Assert.True(code == 0, err);
        var (images, pairs, landmarks) = LfwStyle.Write(root);

        // the run's own evaluation on the LFW-style pairs, masked on one side, against the file through ONNX Runtime
        var overrides = new[]
        {
            $"eval.pairs={pairs}",
            $"eval.images={images}",
            $"eval.landmarks={landmarks}",
            "eval.view=occluded:mask",
            "eval.pairSides=one",
        };
        EvalReport direct;
        using (var trained = TrainedRun.Load(run, overrides))
            direct = Protocols.For(trained.Config, trained.Task, trained.Data).Evaluate!(trained.Model);
        var viaFile = ModelVerification.Verify(
            onnx,
            new ModelVerificationOptions(pairs, images, landmarks, "occluded:mask", OneSide: true)
        );
        var (d, f) = ((VerificationResult)direct.Detail!, (VerificationResult)viaFile.Detail!);
        Assert.Equal(d.Accuracy, f.Accuracy, 1e-9);
        Assert.Equal(d.Auc, f.Auc, 1e-6);
        Assert.InRange(f.Auc, 0, 1);

        (code, output, err) = CliHarness.Run("eval", "--model", onnx, "--pairs", pairs, "--images", images, "-q");
        Assert.True(code == 0, err);
        Assert.Contains("auc", output);
        Assert.Contains("calibrated threshold: cos > ", output);

        void Refused(string expected, params string[] args)
        {
            var (c, _, e) = CliHarness.Run(["eval", .. args]);
            Assert.True(c == 2, $"{string.Join(' ', args)}: exit {c}, {e}");
            Assert.Contains(expected, e);
            Assert.DoesNotContain("\n   at ", e);
        }
        Refused("--run <dir> or --model");
        Refused("without --run", "--model", onnx, "--run", run, "--pairs", pairs, "--images", images);
        Refused("needs --pairs and --images", "--model", onnx);
        Refused("nope.onnx", "--model", Path.Combine(root, "nope.onnx"), "--pairs", pairs, "--images", images);
        Refused("no such zoo net", "--model", "zoo:nope", "--pairs", pairs, "--images", images);
        Refused("--landmarks", "--model", onnx, "--pairs", pairs, "--images", images, "--view", "occluded:mask");
        Refused("export --calibrate", "--model", onnx, "--pairs", pairs, "--images", images, "--calibrate");
        Refused("pair list not found", "--model", onnx, "--pairs", Path.Combine(root, "no.txt"), "--images", images);
    }
}
