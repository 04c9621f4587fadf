using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Distillation;
using FaceDistill.Models;
using FaceDistill.Training;
using static TorchSharp.torch;

namespace FaceDistill.Tests;

public class TrainingTests
{
    [Fact]
    public void LrScheduleWarmupCosineStep()
    {
        var cos = new LrSchedule("cosine", 0.1, 110, 10, [], 0.1, 0.0);
        Assert.Equal(0.01, cos.At(0), 9);
        Assert.Equal(0.1, cos.At(9), 9);
        Assert.Equal(0.1, cos.At(10), 9);
        Assert.Equal(0.05, cos.At(60), 9);
        Assert.Equal(0.0, cos.At(110), 9);
        var step = new LrSchedule("step", 1, 100, 0, [30, 60], 0.1, 0);
        Assert.Equal(1, step.At(29), 9);
        Assert.Equal(0.1, step.At(30), 9);
        Assert.Equal(0.01, step.At(99), 9);
        var floor = new LrSchedule("cosine", 1, 10, 0, [], 0.1, 0.2);
        Assert.Equal(0.2, floor.At(10), 9);
    }

    [Fact]
    public void ResumedRunEndsWithTheSameWeightsAsAnUninterruptedOne()
    {
        var root = TestUtil.TempDir();
        var cfg = TestUtil.Tiny("straight", epochs: 2) with { Model = TestUtil.Tiny("x").Model with { Dropout = 0.2 } };
        var straight = TrainingRun.Execute(cfg, root, ExistingRun.Refuse);
        Assert.False(straight.Result.Interrupted);
        long total = straight.Result.Steps;
        Assert.Equal(8, total); // 64 images / 16 per batch × 2 epochs

        var cfg2 = cfg with { Name = "killed" };
        var first = TrainingRun.Execute(cfg2, root, ExistingRun.Refuse, stopAfterStep: 5); // "killed" mid-epoch 2
        Assert.True(first.Result.Interrupted);
        Assert.Equal(5, first.Result.Steps);
        // the first session's training time travels in the checkpoint (made large here to be unmistakable)
        var latest = Checkpoint.Latest(Path.Combine(root, "killed", "checkpoints"))!;
        var state = Checkpoint.LoadState(latest);
        Assert.True(state.TrainSeconds > 0);
        File.WriteAllText(
            Path.Combine(latest, "state.json"),
            System.Text.Json.JsonSerializer.Serialize(state with { TrainSeconds = 1000 })
        );
        Checkpoint.WriteManifest(latest); // a deliberate edit: sealed again
        var resumed = TrainingRun.Execute(cfg2, root, ExistingRun.Resume);
        Assert.Equal(total, resumed.Result.Steps);
        Assert.InRange(resumed.Result.Elapsed.TotalSeconds, 1000, 1300); // the whole run's time, not the last session's

        var a = TestUtil.CheckpointWeights(Path.Combine(root, "straight", "checkpoints"), cfg, straight.Data.Classes);
        var b = TestUtil.CheckpointWeights(Path.Combine(root, "killed", "checkpoints"), cfg2, resumed.Data.Classes);
        Assert.Equal(a.Length, b.Length);
        Assert.Equal(a, b);
        // and the metrics log has no duplicated steps after the resume
        var steps = File.ReadAllLines(Path.Combine(root, "killed", "metrics.csv"))
            .Skip(1)
            .Where(l => l.Split(',')[2] != "")
            .Select(l => l.Split(',')[0])
            .ToList();
        Assert.Equal(steps.Distinct().Count(), steps.Count);
    }

    [Fact]
    public void ExistingRunIsNeverOverwrittenSilently()
    {
        var root = TestUtil.TempDir();
        var cfg = TestUtil.Tiny("once", epochs: 1);
        TrainingRun.Execute(cfg, root, ExistingRun.Refuse);
        var e = Assert.Throws<FaceDistillException>(() => TrainingRun.Execute(cfg, root, ExistingRun.Refuse));
        Assert.Contains("already exists", e.Message);
        TrainingRun.Execute(cfg, root, ExistingRun.Force);
        Assert.Single(Directory.GetDirectories(root, "once.old-*")); // the old run was kept aside
        var changed = cfg with { Train = cfg.Train with { Epochs = 3 } };
        Assert.Contains(
            "different config",
            Assert.Throws<FaceDistillException>(() => TrainingRun.Execute(changed, root, ExistingRun.Resume)).Message
        );
    }

    /// <summary>A dataset whose images turn to NaN from some index on: the loss must go NaN there.</summary>
    private sealed class PoisonedTerm(long fromStep) : IObjectiveTerm
    {
        public string Name => "poison";
        public IReadOnlyList<string> Views => [];
        public IEnumerable<TorchSharp.Modules.Parameter> Parameters => [];

        public double Weight(StepContext ctx) => 1;

        public Tensor Compute(StudentOutputs s, Batch b, StepContext ctx) =>
            ctx.Step >= fromStep ? s.Embedding.sum() * float.NaN : s.Embedding.sum() * 0;
    }

    [Fact]
    public void NanLossStopsTheRunAndKeepsTheLastGoodCheckpoint()
    {
        var root = TestUtil.TempDir();
        var cfg = TestUtil.Tiny("nan", epochs: 2);
        var e = Assert.Throws<TrainingDivergedException>(() =>
            TrainingRun.Execute(cfg, root, ExistingRun.Refuse, new Objective([new PoisonedTerm(4)]))
        );
        Assert.Contains("loss became NaN at step 5", e.Message);
        Assert.Contains("step-0000003", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        var latest = Checkpoint.Latest(Path.Combine(root, "nan", "checkpoints"))!;
        Assert.Equal(3, Checkpoint.LoadState(latest).Step);
        // the kept checkpoint holds finite weights
        using var m = ModelFactory.Create(cfg, 8);
        Checkpoint.LoadWeights(latest, m);
        Assert.All(m.parameters(), p => Assert.True(p.isfinite().all().item<bool>()));
    }

    /// <summary>Throws a libtorch-style internal error once, at the given step.</summary>
    private sealed class FlakyNativeTerm(long atStep) : IObjectiveTerm
    {
        public bool Fired { get; private set; }
        public string Name => "flaky";
        public IReadOnlyList<string> Views => [];
        public IEnumerable<TorchSharp.Modules.Parameter> Parameters => [];

        public double Weight(StepContext ctx) => 1;

        public Tensor Compute(StudentOutputs s, Batch b, StepContext ctx)
        {
            if (ctx.Step == atStep && !Fired)
            {
                Fired = true;
                throw new System.Runtime.InteropServices.ExternalException("Expected false to be true, but got false.");
            }
            return s.Embedding.sum() * 0;
        }
    }

    private sealed class AlwaysFailingTerm : IObjectiveTerm
    {
        public string Name => "always";
        public IReadOnlyList<string> Views => [];
        public IEnumerable<TorchSharp.Modules.Parameter> Parameters => [];

        public double Weight(StepContext ctx) => 1;

        public Tensor Compute(StudentOutputs s, Batch b, StepContext ctx) =>
            throw new System.Runtime.InteropServices.ExternalException("Expected false to be true, but got false.");
    }

    [Fact]
    public void InternalLibtorchErrorContinuesFromTheLastCheckpointWithIdenticalResult()
    {
        var root = TestUtil.TempDir();
        var cfg = TestUtil.Tiny("clean", epochs: 2);
        var clean = TrainingRun.Execute(cfg, root, ExistingRun.Refuse, new Objective([new FlakyNativeTerm(-1)]));
        var flaky = new FlakyNativeTerm(5); // after the checkpoint at step 3
        var cfg2 = cfg with { Name = "flaky" };
        var recovered = TrainingRun.Execute(cfg2, root, ExistingRun.Refuse, new Objective([flaky]));
        Assert.True(flaky.Fired);
        Assert.Equal(clean.Result.Steps, recovered.Result.Steps);
        Assert.Equal(
            TestUtil.CheckpointWeights(Path.Combine(root, "clean", "checkpoints"), cfg, clean.Data.Classes),
            TestUtil.CheckpointWeights(Path.Combine(root, "flaky", "checkpoints"), cfg2, recovered.Data.Classes)
        );
        // before the first checkpoint the run starts again from its seed: still the same result
        var early = TrainingRun.Execute(
            cfg with
            {
                Name = "early",
            },
            root,
            ExistingRun.Refuse,
            new Objective([new FlakyNativeTerm(1)])
        );
        Assert.Equal(
            TestUtil.CheckpointWeights(Path.Combine(root, "clean", "checkpoints"), cfg, clean.Data.Classes),
            TestUtil.CheckpointWeights(Path.Combine(root, "early", "checkpoints"), cfg, early.Data.Classes)
        );
        // an error that keeps coming back is not retried for ever
        Assert.Throws<System.Runtime.InteropServices.ExternalException>(() =>
            TrainingRun.Execute(
                cfg with
                {
                    Name = "always",
                },
                root,
                ExistingRun.Refuse,
                new Objective([new AlwaysFailingTerm()])
            )
        );
    }

    [Fact]
    public void TrainingLowersTheLossAndReportsVerification()
    {
        var root = TestUtil.TempDir();
        var cfg = TestUtil.Tiny("learn", epochs: 4);
        var o = TrainingRun.Execute(cfg, root, ExistingRun.Refuse);
        var losses = File.ReadAllLines(Path.Combine(root, "learn", "metrics.csv"))
            .Skip(1)
            .Select(l => l.Split(','))
            .Where(f => f[2] != "")
            .Select(f => double.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture))
            .ToList();
        Assert.True(losses.Count >= 2);
        Assert.True(losses[^1] < losses[0], $"loss did not fall: {string.Join(", ", losses)}");
        Assert.NotNull(o.Result.FinalEval);
        Assert.InRange(o.Result.FinalEval!.Metrics["acc"], 0.0, 1.0);
        Assert.True(File.Exists(Path.Combine(root, "learn", "report.md")));
        Assert.True(File.Exists(Path.Combine(root, "learn", "roc.png")));
        Assert.True(File.Exists(Path.Combine(root, "learn", "loss.png")));
        Assert.True(File.Exists(Path.Combine(root, "learn", "config.json")));
    }

    [Theory]
    [InlineData("expression")]
    [InlineData("age")]
    public void AttributeTasksTrainAndEvaluate(string task)
    {
        var root = TestUtil.TempDir();
        var cfg = TestUtil.Tiny($"t-{task}", epochs: 1) with { Task = task };
        var o = TrainingRun.Execute(cfg, root, ExistingRun.Refuse);
        Assert.NotNull(o.Result.FinalEval);
        Assert.Equal(task == "age" ? "regression" : "classification", o.Result.FinalEval!.Protocol);
    }

    [Theory]
    [InlineData("sgd", true, "step")]
    [InlineData("adamw", false, "cosine")]
    [InlineData("sgd", false, "constant")]
    public void OptimizersAndSchedulesTrain(string optimizer, bool nesterov, string schedule)
    {
        var root = TestUtil.TempDir();
        var tiny = TestUtil.Tiny("opt", epochs: 2);
        var cfg = tiny with
        {
            Train = tiny.Train with
            {
                Optimizer = new OptimizerConfig
                {
                    Type = optimizer,
                    Lr = optimizer == "adamw" ? 1e-3 : 0.05,
                    Nesterov = nesterov,
                    WeightDecay = 1e-4,
                },
                Schedule = new ScheduleConfig
                {
                    Type = schedule,
                    WarmupEpochs = 0,
                    Milestones = [1],
                    Gamma = 0.1,
                },
            },
        };
        var o = TrainingRun.Execute(cfg, root, ExistingRun.Refuse);
        Assert.True(double.IsFinite(o.Result.FinalLoss));
        var lrs = File.ReadAllLines(Path.Combine(root, "opt", "metrics.csv"))
            .Skip(1)
            .Select(l => l.Split(',')[3])
            .Where(v => v != "")
            .Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture))
            .ToList();
        if (schedule == "step")
            Assert.Equal(0.005, lrs[^1], 9); // after the milestone at epoch 1: lr·γ
        if (schedule == "constant")
            Assert.All(lrs, v => Assert.Equal(0.05, v, 9));
    }

    [Theory]
    [InlineData("adamw")]
    [InlineData("sgd")]
    public void BackboneLrScaleSlowsTheBackboneAloneAndZeroFreezesIt(string type)
    {
        using var backbone = nn.Linear(4, 3);
        using var head = nn.Linear(3, 2);
        var before = backbone.weight!.detach().clone();
        var headBefore = head.weight!.detach().clone();
        var c = new OptimizerConfig
        {
            Type = type,
            Lr = 0.1,
            BackboneLrScale = 0.5,
        };
        using (var half = OptimizerFactory.Create(c, backbone.parameters(), head.parameters()))
        {
            OptimizerFactory.SetLr(half, 0.2, OptimizerFactory.BackboneLr(c, 0.2, 0, 10));
            Assert.Equal([0.1, 0.2], OptimizerFactory.Lrs(half));
            // linear probing first (LP-FT): the backbone's LR is 0 for freezeBackboneEpochs, then scaled
            var lpft = c with
            {
                FreezeBackboneEpochs = 1.5,
            };
            Assert.Equal(0, OptimizerFactory.BackboneLr(lpft, 0.2, 14, 10));
            Assert.Equal(0.1, OptimizerFactory.BackboneLr(lpft, 0.2, 15, 10), 12);
        }
        var frozen = c with { BackboneLrScale = 0 };
        using var opt = OptimizerFactory.Create(frozen, backbone.parameters(), head.parameters());
        OptimizerFactory.SetLr(opt, 0.1, OptimizerFactory.BackboneLr(frozen, 0.1, 0, 10));
        for (int i = 0; i < 3; i++)
        {
            opt.zero_grad();
            using var loss = head.call(backbone.call(ones(5, 4))).pow(2).sum();
            loss.backward();
            opt.step();
        }
        Assert.True(backbone.weight!.equal(before).all().item<bool>());
        Assert.False(head.weight!.equal(headBefore).all().item<bool>());
        // a scale of 1 keeps the single group of every run made before the key existed
        using var one = OptimizerFactory.Create(c with { BackboneLrScale = 1 }, backbone.parameters(), []);
        Assert.Single(OptimizerFactory.Lrs(one));
    }

    [Fact]
    public void ARunWithABackboneLrScaleTrainsAndResumes()
    {
        var root = TestUtil.TempDir();
        var tiny = TestUtil.Tiny("scaled", epochs: 2);
        var cfg = tiny with
        {
            Train = tiny.Train with
            {
                Optimizer = tiny.Train.Optimizer with
                {
                    Type = "adamw",
                    BackboneLrScale = 0.1,
                    FreezeBackboneEpochs = 0.5,
                },
            },
        };
        var first = TrainingRun.Execute(cfg, root, ExistingRun.Refuse, stopAfterStep: 3);
        Assert.True(first.Result.Interrupted);
        var resumed = TrainingRun.Execute(cfg, root, ExistingRun.Resume);
        Assert.False(resumed.Result.Interrupted);
        Assert.True(double.IsFinite(resumed.Result.FinalLoss));
        var straight = TrainingRun.Execute(cfg with { Name = "straight" }, root, ExistingRun.Refuse);
        Assert.Equal(
            TestUtil.CheckpointWeights(Path.Combine(root, "straight", "checkpoints"), cfg, straight.Data.Classes),
            TestUtil.CheckpointWeights(Path.Combine(root, "scaled", "checkpoints"), cfg, resumed.Data.Classes)
        );
    }

    [Fact]
    public void CorruptCheckpointIsReportedByName()
    {
        var dir = TestUtil.TempDir();
        var bad = Path.Combine(dir, "model.bin");
        File.WriteAllBytes(bad, [1, 2, 3]);
        using var m = ModelFactory.Create(TestUtil.Tiny("c"), 8);
        var e = Assert.Throws<FaceDistillException>(() => Checkpoint.LoadWeights(bad, m));
        Assert.StartsWith(bad + ":", e.Message);
    }

    [Fact]
    public void AtomicWriteLeavesNoTemporaryFiles()
    {
        var dir = TestUtil.TempDir();
        var p = Path.Combine(dir, "x.txt");
        AtomicFile.WriteAllText(p, "one");
        AtomicFile.WriteAllText(p, "two");
        Assert.Equal("two", File.ReadAllText(p));
        Assert.Throws<InvalidOperationException>(() =>
            AtomicFile.Write(p, _ => throw new InvalidOperationException("boom"))
        );
        Assert.Equal("two", File.ReadAllText(p));
        Assert.Single(Directory.GetFiles(dir));
    }
}
