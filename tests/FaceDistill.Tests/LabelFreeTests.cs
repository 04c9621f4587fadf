using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Data.Synthetic;
using FaceDistill.Distillation;
using FaceDistill.Models;
using FaceDistill.Runs;
using FaceDistill.Training;
using static TorchSharp.torch;

namespace FaceDistill.Tests;

/// <summary>Label-free distillation over a face pool: the loss, the mixed views, and a tiny run end to end.</summary>
public class LabelFreeTests
{
    [Fact]
    public void TheLossIsCosinePlusSimilarityPreserving()
    {
        using var t = tensor(new float[] { 1, 0, 0, 1, 1, 1 }, [3, 2]);
        // the teacher itself: no loss
        Assert.Equal(0, LabelFreeDistillation.Loss(t, t, 1).item<float>(), 5);
        // a scaled student keeps every cosine and every row-normalised similarity: still no loss
        using var scaled = t * 3;
        Assert.Equal(0, LabelFreeDistillation.Loss(scaled, t, 1).item<float>(), 5);
        // a rotated student: cosine term by hand; the Gram matrix of a rotation is unchanged, so L_SP = 0
        using var rot = tensor(new float[] { 0, 1, -1, 0, -1, 1 }, [3, 2]);
        Assert.Equal(1.0, LabelFreeDistillation.Loss(rot, t, 0).item<float>(), 5);
        Assert.Equal(0, LabelFreeDistillation.SimilarityPreserving(rot, t).item<float>(), 5);
        // collapsing every face to one point breaks the batch's similarities: L_SP > 0
        using var collapsed = tensor(new float[] { 1, 1, 1, 1, 1, 1 }, [3, 2]);
        Assert.True(LabelFreeDistillation.SimilarityPreserving(collapsed, t).item<float>() > 0.05);
    }

    [Fact]
    public void CentredTargetsDoNotRewardTheCommonDirection()
    {
        // teacher embeddings that share one large direction (as a face net's do): predicting that direction for every
        // face scores well against the raw targets, and not at all against the centred ones
        manual_seed(5);
        using var common = ones(1, 32) * 3;
        using var t = randn(16, 32) + common;
        using var mean = common.expand(16, 32).contiguous();
        Assert.True(LabelFreeDistillation.Loss(mean, t, 0).item<float>() < 0.2);
        using var centred = LabelFreeDistillation.Centre(t);
        Assert.True(centred.mean([0]).abs().max().item<float>() < 1e-5);
        Assert.InRange(LabelFreeDistillation.Loss(mean, centred, 0).item<float>(), 0.8, 1.2);
        // the centred teacher itself is still learned exactly; a given (pool) mean is the one subtracted
        Assert.Equal(0, LabelFreeDistillation.Loss(centred, centred, 1).item<float>(), 5);
        using var pool = zeros(1, 32);
        using var kept = LabelFreeDistillation.Centre(t, pool);
        Assert.Equal(0, (kept - t).abs().max().item<float>(), 6);
    }

    [Fact]
    public void MixedViewsPickOneViewPerSampleDeterministically()
    {
        var view = FaceViews.Parse("mix:lowres:8@0.5");
        var faces = new SyntheticFaces(
            new SyntheticOptions
            {
                Identities = 1,
                ImagesPerIdentity = 1,
                Size = 48,
            }
        );
        var (img, lm) = faces.Load(0);
        var labels = new FaceLabels() with { Landmarks = lm };
        int degraded = Enumerable
            .Range(0, 40)
            .Count(i => !view.Transform!(img, labels, Seeds.Rng(1, i)).Pixels.SequenceEqual(img.Pixels));
        Assert.InRange(degraded, 10, 30);
        Assert.Equal(
            view.Transform!(img, labels, Seeds.Rng(1, 5)).Pixels,
            view.Transform!(img, labels, Seeds.Rng(1, 5)).Pixels
        );
        Assert.Contains(
            "add up to more than 1",
            Assert.Throws<FaceDistillException>(() => FaceViews.Parse("mix:lowres:8@0.7,occluded:vr@0.5")).Message
        );
        Assert.Contains(
            "<view>@<rate>",
            Assert.Throws<FaceDistillException>(() => FaceViews.Parse("mix:lowres:8")).Message
        );
        Assert.True(FaceViews.IsOcclusion(FaceViews.Parse("mix:lowres:8@0.2,occluded:mask@0.3")));
    }

    private static List<double> Losses(string runPath) =>
        File.ReadAllLines(Path.Combine(runPath, "metrics.csv"))
            .Skip(1)
            .Select(l => l.Split(','))
            .Where(f => f.Length > 2 && f[2].Length > 0)
            .Select(f => double.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture))
            .ToList();

    /// <summary>A tiny labelled teacher (<c>root/pool-teacher</c>), a synthetic pool without labels, LFW-style pairs
    /// of held-out people, and the overrides of a label-free run over them.</summary>
    private static string[] PoolRun(string root)
    {
        // the teacher: a tiny recognizer trained with labels
        var teacherCfg = TestUtil.Tiny("pool-teacher", epochs: 2);
        TrainingRun.Execute(teacherCfg, root, ExistingRun.Refuse);
        // the pool: synthetic faces written as images (other identities than the teacher's), labels thrown away
        var pool = Path.Combine(root, "pool");
        SyntheticDatasetWriter.Write(
            new SyntheticFaces(
                new SyntheticOptions
                {
                    Identities = 10,
                    ImagesPerIdentity = 6,
                    Size = 48,
                    Seed = 21,
                }
            ),
            pool
        );
        File.Delete(Path.Combine(pool, "labels.csv"));
        // verification pairs: LFW layout over held-out synthetic people
        var lfw = Path.Combine(root, "lfw");
        var gallery = new SyntheticFaces(
            new SyntheticOptions
            {
                Identities = 4,
                ImagesPerIdentity = 3,
                Size = 48,
                Seed = 33,
            }
        );
        for (int i = 0; i < gallery.Count; i++)
            ImageCodec.Save(gallery.Image(i), Path.Combine(lfw, $"P{i / 3}", $"P{i / 3}_{i % 3 + 1:D4}.png"));
        var pairs = Path.Combine(root, "pairs.txt");
        File.WriteAllLines(
            pairs,
            ["2 2", "P0 1 2", "P1 1 2", "P0 1 P1 1", "P2 1 P3 1", "P2 1 3", "P3 2 3", "P0 2 P2 2", "P1 3 P3 3"]
        );
        var overrides = new[]
        {
            "name=pool-student",
            "data.source=pool",
            $"data.pool=[\"{pool}\"]",
            $"data.landmarks={pool}/landmarks.csv",
            "data.view=mix:occluded:mask@0.3,lowres:16@0.3",
            "data.imageSize=32",
            "model.backbone=iresnet18",
            "model.width=0.125",
            "model.embeddingSize=16",
            "model.head.type=none",
            "train.epochs=6",
            "train.batchSize=12",
            "train.threads=2",
            "train.optimizer.type=adamw",
            "train.optimizer.lr=0.003",
            "distill.method=labelfree",
            $"distill.teacher={Path.Combine(root, "pool-teacher")}",
            "distill.cache=true",
            $"distill.cacheDir={Path.Combine(root, "cache")}",
            $"eval.pairs={pairs}",
            "eval.view=clean",
            $"eval.images={lfw}",
            "eval.flip=false",
        };
        return overrides;
    }

    [Fact]
    public void AStudentLearnsFromAPoolWithoutLabels()
    {
        var root = TestUtil.TempDir();
        var overrides = PoolRun(root);
        // the evaluation's view is checked before training: the pool's mixed view needs landmarks the pair images lack
        var probe = Assert.Throws<FaceDistillException>(() =>
            TrainingRun.Execute(
                RunConfig.Load(null, [.. overrides.Where(o => o != "eval.view=clean"), "name=probe"]).Settings,
                root,
                ExistingRun.Refuse
            )
        );
        Assert.Contains("cannot run", probe.Message);
        Assert.False(Directory.Exists(Path.Combine(root, "probe", "checkpoints")));
        var cfg = RunConfig.Load(null, overrides).Settings;
        Assert.Equal(1.0, cfg.Distill.Get(LabelFreeDistillation.Relational));
        var run = TrainingRun.Execute(cfg, root, ExistingRun.Refuse);
        Assert.Equal(60, run.Data.Train.Count);
        Assert.Equal(0, run.Data.Classes);
        Assert.True(double.IsFinite(run.Result.FinalLoss));
        Assert.NotNull(run.Result.FinalEval);
        Assert.Single(Directory.GetFiles(Path.Combine(root, "cache"), "teacher-*.bin"));
        // the loss fell: the student moved towards the teacher
        var losses = Losses(run.Run.Path);
        Assert.True(losses[^1] < losses[0], $"loss {losses[0]} → {losses[^1]}");
        // a finished pool run loads back (eval, export, an experiment's extra views) with its distiller kept: a pool
        // config without one is invalid, so dropping the teacher as for other runs would refuse the run
        using (var back = TrainedRun.Load(run.Run.Path, ["eval.view=clean"]))
            Assert.Equal("labelfree", back.Config.Distill.Method);
        // what a pool run needs is checked before any work
        Assert.Contains(
            "model.head.type",
            Assert
                .Throws<FaceDistillException>(() =>
                    RunConfig.Load(null, overrides.Where(o => !o.StartsWith("model.head")).ToArray()).Settings
                )
                .Message
        );
        Assert.Contains(
            "data.pool",
            Assert
                .Throws<FaceDistillException>(() =>
                    RunConfig
                        .Load(null, ["data.source=folder", $"data.path={root}/pool", $"data.pool=[\"{root}/pool\"]"])
                        .Settings
                )
                .Message
        );
    }

    [Fact]
    public void AMarginLossJoinsTheLabelFreeTermWhereThePoolKnowsThePerson()
    {
        var root = TestUtil.TempDir();
        var pool = Path.Combine(root, "pool");
        string[] overrides =
        [
            .. PoolRun(root).Where(o => !o.StartsWith("name=") && !o.StartsWith("model.head")),
            "name=pool-ids",
            $"data.identities=[\"{pool}\"]",
            "model.head.type=arcface",
            "model.head.s=16",
            "train.epochs=12",
        ];
        var run = TrainingRun.Execute(RunConfig.Load(null, overrides).Settings, root, ExistingRun.Refuse);
        // the synthetic pool's ten people are the head's classes; both terms are trained and logged
        Assert.Equal(10, run.Data.Classes);
        Assert.Equal(0, run.Data.Train.Labels(0).Identity);
        Assert.True(double.IsFinite(run.Result.FinalLoss));
        Assert.NotNull(run.Result.FinalEval);
        // the margin head was trained: its class centres name the pool's people far above chance (1 in 10)
        var cfg = RunConfig.Load(null, overrides).Settings;
        using (var model = ModelFactory.Create(cfg, 10))
        {
            Checkpoint.LoadWeights(Checkpoint.Latest(Path.Combine(run.Run.Path, "checkpoints"))!, model);
            model.eval();
            var train = run.Data.Train;
            var pixels = new float[train.Count * 3 * 32 * 32];
            for (int i = 0; i < train.Count; i++)
                Augment.ToTensorData(
                    train.Image(i),
                    32,
                    1,
                    AugmentOptions.None,
                    null,
                    pixels.AsSpan(i * 3 * 32 * 32, 3 * 32 * 32)
                );
            using var _ = no_grad();
            using var x = tensor(pixels, [train.Count, 3, 32, 32]);
            using var logits = model.Head.call(model.Backbone.call(x), null);
            var predicted = logits.argmax(1).data<long>().ToArray();
            int right = Enumerable.Range(0, train.Count).Count(i => predicted[i] == train.Labels(i).Identity);
            Assert.True(right > train.Count / 2, $"{right} of {train.Count} pool faces named right");
        }
        // checked before any work: a listed folder must be one of the pool's, the head must classify, and the key
        // is read only with a pool
        string Refused(params string[] extra) =>
            Assert.Throws<FaceDistillException>(() => RunConfig.Load(null, [.. overrides, .. extra]).Settings).Message;
        Assert.Contains("data.identities", Refused($"data.identities=[\"{root}/lfw\"]"));
        Assert.Contains("model.head.type", Refused("model.head.type=none"));
        Assert.Contains(
            "data.identities",
            Assert
                .Throws<FaceDistillException>(() =>
                    RunConfig
                        .Load(null, ["data.source=folder", $"data.path={pool}", $"data.identities=[\"{pool}\"]"])
                        .Settings
                )
                .Message
        );
    }

    [Fact]
    public void TheTeachersSpaceMapsIntoTheAnchorsByLeastSquares()
    {
        manual_seed(3);
        using var teacher = randn(400, 24);
        // an anchor that is a rotation of the teacher (unit rows stay unit): the map is that rotation, R² is 1, and
        // every face's target is the anchor's own centred embedding
        var (q, _) = linalg.qr(randn(24, 24));
        using var anchor = teacher.matmul(q);
        using (var fit = EmbeddingAlignment.Fit(teacher, anchor, 1e-6))
        {
            Assert.InRange(fit.RSquared, 0.999, 1.0);
            Assert.True((fit.Weights - q).abs().max().item<float>() < 1e-3);
            using var target = fit.Map(teacher[..5]);
            using var own = fit.Centre(anchor[..5]);
            Assert.True((target - own).abs().max().item<float>() < 1e-4);
            // the student is compared in the anchor's space: its own scale does not matter
            using var scaled = fit.Centre(anchor[..5] * 7);
            Assert.True((scaled - own).abs().max().item<float>() < 1e-5);
        }
        // an anchor unrelated to the teacher: nothing to explain (R² near 0), and the ridge shrinks the map
        using var noise = randn(400, 8);
        using var weak = EmbeddingAlignment.Fit(teacher, noise, 1e-6);
        using var strong = EmbeddingAlignment.Fit(teacher, noise, 10);
        Assert.InRange(weak.RSquared, 0, 0.15);
        Assert.True(strong.RSquared < weak.RSquared);
        Assert.True(strong.Weights.norm().item<float>() < weak.Weights.norm().item<float>() / 3);
        Assert.Contains(
            "not the same set",
            Assert.Throws<FaceDistillException>(() => EmbeddingAlignment.Fit(teacher, noise[..10], 1)).Message
        );
    }

    [Fact]
    public void AStudentLearnsInItsAnchorsSpace()
    {
        var root = TestUtil.TempDir();
        var overrides = PoolRun(root);
        // a second teacher of another width: its 24-d space is mapped into the 32-d anchor's (the first teacher)
        var wide = TestUtil.Tiny("wide-teacher", epochs: 1);
        TrainingRun.Execute(wide with { Model = wide.Model with { EmbeddingSize = 24 } }, root, ExistingRun.Refuse);
        string[] anchored =
        [
            .. overrides.Where(o => !o.StartsWith("name=") && !o.StartsWith("distill.teacher=")),
            $"distill.teacher={Path.Combine(root, "wide-teacher")}",
            $"distill.anchor={Path.Combine(root, "pool-teacher")}",
            "distill.anchorWeight=0.5",
            "train.epochs=3",
        ];
        var cfg = RunConfig.Load(null, [.. anchored, "name=anchored", "model.embeddingSize=32"]).Settings;
        Assert.Equal(0.5, cfg.Distill.Get(LabelFreeDistillation.Ridge));
        var run = TrainingRun.Execute(cfg, root, ExistingRun.Refuse);
        Assert.True(double.IsFinite(run.Result.FinalLoss));
        Assert.NotNull(run.Result.FinalEval);
        // both nets' outputs on the pool are cached (the map is fitted on them), and the student moved towards its
        // targets
        Assert.Equal(2, Directory.GetFiles(Path.Combine(root, "cache"), "teacher-*.bin").Length);
        var losses = Losses(run.Run.Path);
        Assert.True(losses[^1] < losses[0], $"loss {losses[0]} → {losses[^1]}");
        // the anchor's space must be the student's
        var wrong = Assert.Throws<FaceDistillException>(() =>
            TrainingRun.Execute(
                RunConfig.Load(null, [.. anchored, "name=wrong", "model.embeddingSize=16"]).Settings,
                root,
                ExistingRun.Refuse
            )
        );
        Assert.Contains("distill.anchor", wrong.Message);
        Assert.Contains("32", wrong.Message);
        // checked before any work: the map needs the teacher's cache, an anchor is a spec, only labelfree reads it
        string Refused(params string[] extra) =>
            Assert
                .Throws<FaceDistillException>(() => RunConfig.Load(null, [.. anchored, "name=bad", .. extra]).Settings)
                .Message;
        Assert.Contains("distill.anchor", Refused("distill.cache=false"));
        Assert.Contains("distill.anchor", Refused("distill.anchor=3"));
        Assert.Contains("distill.ridge", Refused("distill.ridge=0"));
        Assert.Contains("distill.anchorWeight", Refused("distill.anchorWeight=1.5"));
        // keys of the anchored form are refused without an anchor (silently unused otherwise), unless at their default
        string[] plain = [.. overrides.Where(o => !o.StartsWith("name="))];
        foreach (var key in new[] { "distill.anchorWeight=0.5", "distill.ridge=2" })
        {
            var message = Assert
                .Throws<FaceDistillException>(() => RunConfig.Load(null, [.. plain, key]).Settings)
                .Message;
            Assert.Contains(key.Split('=')[0], message);
            Assert.Contains("read only with distill.anchor", message);
        }
        Assert.Equal(
            0.5,
            RunConfig.Load(null, [.. plain, "distill.ridge=0.5"]).Settings.Distill.Get(LabelFreeDistillation.Ridge)
        );
        Assert.Contains("distill.anchor", Refused($"distill.anchor={Path.Combine(root, "missing")}"));
        Assert.Contains(
            "distill.anchor",
            Assert
                .Throws<FaceDistillException>(() =>
                    RunConfig
                        .Load(
                            null,
                            [
                                "distill.method=feature",
                                "distill.teacher=zoo:recognition",
                                "distill.anchor=zoo:mobileface",
                            ]
                        )
                        .Settings
                )
                .Message
        );
    }
}
