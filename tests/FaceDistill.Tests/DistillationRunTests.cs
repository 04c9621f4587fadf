using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Distillation;
using FaceDistill.Models;
using FaceDistill.Training;

namespace FaceDistill.Tests;

public class DistillationRunTests
{
    private static float[] Weights(string runDir, RunSettings cfg, int classes) =>
        TestUtil.CheckpointWeights(Path.Combine(runDir, "checkpoints"), cfg, classes);

    [Fact]
    public void DistillationTermsChangeTrainingAndZeroWeightDoesNot()
    {
        var root = TestUtil.TempDir();
        // teacher: a wider IResNet on the same synthetic identities
        var teacherCfg = TestUtil.Tiny("teacher", epochs: 2) with
        {
            Model = TestUtil.Tiny("t").Model with { Width = 0.25, EmbeddingSize = 64 },
        };
        TrainingRun.Execute(teacherCfg, root, ExistingRun.Refuse);
        var teacherDir = Path.Combine(root, "teacher");

        var plain = TestUtil.Tiny("plain", epochs: 1);
        var o = TrainingRun.Execute(plain, root, ExistingRun.Refuse);
        var basis = Weights(Path.Combine(root, "plain"), plain, o.Data.Classes);

        foreach (var method in new[] { "kd", "dkd", "gkd", "feature" })
        {
            var zero = plain with
            {
                Name = $"{method}-zero",
                Distill = new DistillConfig
                {
                    Method = method,
                    Teacher = teacherDir,
                    Weight = 0,
                },
            };
            TrainingRun.Execute(zero, root, ExistingRun.Refuse);
            var on = plain with
            {
                Name = $"{method}-on",
                Distill = new DistillConfig
                {
                    Method = method,
                    Teacher = teacherDir,
                    Weight = 1,
                },
            };
            var r = TrainingRun.Execute(on, root, ExistingRun.Refuse);
            Assert.True(double.IsFinite(r.Result.FinalLoss));
            // weight 0 leaves training bit-identical (the trainer reseeds libtorch every step, so building a teacher or
            // a projection does not shift the random stream); weight 1 changes it
            Assert.Equal(basis, Weights(Path.Combine(root, $"{method}-zero"), zero, o.Data.Classes));
            Assert.NotEqual(basis, Weights(Path.Combine(root, $"{method}-on"), on, o.Data.Classes));
        }
    }

    [Fact]
    public void FeatureKdWithProjectionResumesExactly()
    {
        var root = TestUtil.TempDir();
        var teacherCfg = TestUtil.Tiny("wide-teacher", epochs: 1) with
        {
            Model = TestUtil.Tiny("t").Model with { Width = 0.25, EmbeddingSize = 64 },
        };
        TrainingRun.Execute(teacherCfg, root, ExistingRun.Refuse);
        // student embedding 32-d, teacher 64-d: the term learns a projection, which must survive a resume
        var cfg = TestUtil.Tiny("feat-straight", epochs: 2) with
        {
            Distill = new DistillConfig { Method = "feature", Teacher = Path.Combine(root, "wide-teacher") },
        };
        var straight = TrainingRun.Execute(cfg, root, ExistingRun.Refuse);
        var cfg2 = cfg with { Name = "feat-killed" };
        TrainingRun.Execute(cfg2, root, ExistingRun.Refuse, stopAfterStep: 5);
        TrainingRun.Execute(cfg2, root, ExistingRun.Resume);
        Assert.True(
            File.Exists(Path.Combine(Checkpoint.Latest(Path.Combine(root, "feat-killed", "checkpoints"))!, "terms.bin"))
        );
        Assert.Equal(
            Weights(Path.Combine(root, "feat-straight"), cfg, straight.Data.Classes),
            Weights(Path.Combine(root, "feat-killed"), cfg2, straight.Data.Classes)
        );
    }

    [Fact]
    public void DdlTrainsOnLowResolutionViewsWithoutATeacher()
    {
        var root = TestUtil.TempDir();
        var plain = TestUtil.Tiny("ddl-plain", epochs: 1);
        var o = TrainingRun.Execute(plain, root, ExistingRun.Refuse);
        var zero = plain with
        {
            Name = "ddl-zero",
            Distill = new DistillConfig { Method = "ddl", Weight = 0 }.With(
                DistributionDistillationLoss.HardView,
                "lowres:8"
            ),
        };
        TrainingRun.Execute(zero, root, ExistingRun.Refuse);
        var on = plain with
        {
            Name = "ddl-on",
            Distill = new DistillConfig { Method = "ddl" }.With(DistributionDistillationLoss.HardView, "lowres:8"),
        };
        var r = TrainingRun.Execute(on, root, ExistingRun.Refuse);
        Assert.True(double.IsFinite(r.Result.FinalLoss));
        var basis = Weights(Path.Combine(root, "ddl-plain"), plain, o.Data.Classes);
        // an extra view alone changes nothing
        Assert.Equal(basis, Weights(Path.Combine(root, "ddl-zero"), zero, o.Data.Classes));
        Assert.NotEqual(basis, Weights(Path.Combine(root, "ddl-on"), on, o.Data.Classes));
        var e = Assert.Throws<FaceDistillException>(() =>
            RunConfig.Load(null, ["distill.method=ddl", "distill.hardView=blurry"]).Settings
        );
        Assert.Contains("key 'distill.hardView' unknown view 'blurry'", e.Message);
    }

    [Fact]
    public void LowResolutionKeepsSmoothImagesAndRemovesFineDetail()
    {
        var noise = new FaceDistill.Data.RgbImage(64, 64);
        new Random(2).NextBytes(noise.Pixels);
        var low = FaceDistill.Data.Degradations.LowResolution(noise, 8);
        Assert.Equal((64, 64), (low.Width, low.Height));
        double Var(byte[] p)
        {
            double m = p.Average(b => (double)b);
            return p.Average(b => (b - m) * (b - m));
        }
        Assert.True(Var(low.Pixels) < Var(noise.Pixels) / 10, "8-px views must lose the pixel-level detail");
        var flat = new FaceDistill.Data.RgbImage(64, 64);
        Array.Fill(flat.Pixels, (byte)77);
        Assert.All(FaceDistill.Data.Degradations.LowResolution(flat, 8).Pixels, v => Assert.Equal(77, v));
    }

    [Fact]
    public void DistillConfigErrorsNameTheKeyOrPath()
    {
        var e = Assert.Throws<FaceDistillException>(() => RunConfig.Load(null, ["distill.method=gkd"]).Settings);
        Assert.Contains("key 'distill.teacher' is required", e.Message);
        e = Assert.Throws<FaceDistillException>(() =>
            RunConfig.Load(null, ["distill.method=gkd", "distill.teacher=/no/teacher"]).Settings
        );
        Assert.StartsWith("/no/teacher: teacher run directory not found", e.Message);
        e = Assert.Throws<FaceDistillException>(() => RunConfig.Load(null, ["distill.method=magic"]).Settings);
        Assert.Contains("key 'distill.method' is 'magic'", e.Message);
        var dir = TestUtil.TempDir();
        e = Assert.Throws<FaceDistillException>(() =>
            RunConfig.Load(null, ["task=age", "distill.method=gkd", $"distill.teacher={dir}"]).Settings
        );
        Assert.Contains("task 'age' has none", e.Message);
    }

    [Fact]
    public void LogitDistillationNeedsTheSameClassSet()
    {
        var root = TestUtil.TempDir();
        TrainingRun.Execute(TestUtil.Tiny("t8", epochs: 1), root, ExistingRun.Refuse);
        var student = TestUtil.Tiny("s", epochs: 1) with
        {
            Data = TestUtil.Tiny("s").Data with
            {
                Synthetic = TestUtil.Tiny("s").Data.Synthetic with { Identities = 6 },
            },
            Distill = new DistillConfig { Method = "gkd", Teacher = Path.Combine(root, "t8") },
        };
        var e = Assert.Throws<FaceDistillException>(() => TrainingRun.Execute(student, root, ExistingRun.Refuse));
        Assert.Contains("has 8 classes, the student 6", e.Message);
    }
}
