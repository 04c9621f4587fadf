using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Distillation;
using FaceDistill.Faces;
using FaceDistill.Models;
using FaceDistill.Models.Heads;

namespace FaceDistill.Runs;

/// <summary>
/// Value checks of a run config beyond types, before any work starts: names from the registries (data sources,
/// views, backbones, heads, distillation methods, teachers), ranges, files that must exist. One method per section;
/// each registry entry checks its own keys.
/// </summary>
public static class RunConfigValidator
{
    public static readonly string[] Tasks = ["recognition", "expression", "age", "gender"];
    public static readonly string[] Optimizers = ["sgd", "adamw"];
    public static readonly string[] Schedules = ["cosine", "step", "constant"];

    /// <summary>Checks a resolved config (<see cref="RunConfig.Resolve"/>).</summary>
    public static void Validate(RunSettings c, ConfigChecks checks)
    {
        if (
            string.IsNullOrWhiteSpace(c.Name)
            || c.Name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0
            || c.Name is "." or ".."
            || c.Name.Any(char.IsControl)
            || c.Name.Length > 100
            || c.Name.StartsWith('-')
        )
            checks.Fail(
                "name",
                $"'{c.Name.ReplaceLineEndings(" ")}' is not usable as a run directory name (at most 100 characters, "
                    + "no '/', no control characters, not starting with '-')"
            );
        checks.OneOf("task", c.Task, Tasks);
        Data(c.Data, checks);
        Synthetic(c.Data.Synthetic, checks);
        Augment(c.Data.Augment, checks);
        Model(c.Model, c.Data.ImageSize, checks);
        Train(c.Train, checks);
        DistillationMethods.Validate(c, checks);
        if (DistillationMethods.Find(c.Distill.Method) is { NeedsTeacher: true } method)
            TeacherFactory.Validate(c, method, checks);
        Eval(c.Eval, checks);
        if (c.Data.Source == DataSources.Pool)
            LabelFree(c, checks);
        if (c.Data.Extra is not null)
            Extra(c, checks);
        if (c.Data.Unlabelled is not null)
            Unlabelled(c, checks);
        if (c.Data.LabelledFraction < 1 && c.Task is not ("expression" or "gender"))
            checks.Fail("data.labelledFraction", $"takes a share of each class: expression and gender, not '{c.Task}'");
    }

    /// <summary>Extra labelled folders (mined or condensed sets): class = folder, for the classification tasks, on a
    /// view that needs no landmarks (the extra images have none).</summary>
    private static void Extra(RunSettings c, ConfigChecks checks)
    {
        if (c.Task is not ("expression" or "gender"))
            checks.Fail("data.extra", $"adds class folders, read for the expression and gender tasks, not '{c.Task}'");
        if (c.Data.Source is DataSources.Pool)
            checks.Fail("data.extra", "is not used with a face pool (it has no labels)");
        var view = FaceViews.Parse(c.Data.View);
        if (FaceViews.IsOcclusion(view))
            checks.Fail("data.extra", $"images carry no landmarks, which the training view '{view.Name}' needs");
        foreach (var f in c.Data.Extra!)
            if (!checks.DirOk(f))
                throw FaceDistillException.ForFile(f, "extra training folder not found (data.extra)");
    }

    /// <summary>Unlabelled faces added to a classification run: they learn from the teacher alone, so the run
    /// distils (Hinton KD, whose loss reads no label) with a softmax head, on a view that needs no landmarks.</summary>
    private static void Unlabelled(RunSettings c, ConfigChecks checks)
    {
        if (c.Task is not ("expression" or "gender"))
            checks.Fail("data.unlabelled", $"adds unlabelled faces to expression or gender training, not '{c.Task}'");
        if (c.Data.Source is DataSources.Pool)
            checks.Fail("data.unlabelled", "is not used with a face pool (data.source 'pool' is unlabelled already)");
        if (c.Distill.Method != "kd")
            checks.Fail(
                "data.unlabelled",
                $"faces without labels learn from a teacher alone: needs distill.method 'kd' "
                    + $"(found '{c.Distill.Method}')"
            );
        if (c.Model.Head.Type != "softmax")
            checks.Fail("data.unlabelled", $"needs model.head.type 'softmax' (found '{c.Model.Head.Type}')");
        var view = FaceViews.Parse(c.Data.View);
        if (FaceViews.IsOcclusion(view))
            checks.Fail("data.unlabelled", $"faces carry no landmarks, which the training view '{view.Name}' needs");
        foreach (var f in c.Data.Unlabelled!)
            if (!checks.DirOk(f))
                throw FaceDistillException.ForFile(f, "unlabelled face folder not found (data.unlabelled)");
    }

    /// <summary>A face pool has no labels: the run learns from a teacher's embeddings alone and is verified on a pair
    /// list.</summary>
    private static void LabelFree(RunSettings c, ConfigChecks checks)
    {
        if (c.Task != "recognition")
            checks.Fail("task", $"is '{c.Task}'; a face pool (data.source 'pool') trains recognition");
        bool identities = c.Data.Identities is { Length: > 0 };
        if (!identities && c.Model.Head.Type != "none")
            checks.Fail(
                "model.head.type",
                "must be 'none' with a face pool without data.identities (no face has an identity)"
            );
        if (identities && !Heads.GroupHeads.Contains(c.Model.Head.Type))
            checks.Fail(
                "model.head.type",
                $"is '{c.Model.Head.Type}'; data.identities trains a classifier head beside the label-free term: "
                    + string.Join(", ", Heads.GroupHeads)
            );
        if (DistillationMethods.Find(c.Distill.Method) is not { Teacher: TeacherOutput.Embedding })
            checks.Fail(
                "distill.method",
                $"is '{c.Distill.Method}'; a face pool needs an embedding distiller (labelfree, feature)"
            );
        if (c.Eval.Pairs is null)
            checks.Fail("eval.pairs", "is required with a face pool (it has no held-out identities)");
    }

    private static void Data(DataConfig d, ConfigChecks checks)
    {
        checks.OneOf("data.source", d.Source, DataSources.Registry.Names);
        var source = DataSources.Registry.Get(d.Source);
        if (d.Pool is not null && d.Source != DataSources.Pool)
            checks.Fail("data.pool", $"is only read by data.source '{DataSources.Pool}'");
        checks.Describe(
            "data.identities",
            "unset, or folders of data.pool holding one subfolder per person (their faces train the margin head)"
        );
        if (d.Identities is not null && d.Source != DataSources.Pool)
            checks.Fail("data.identities", $"is only read by data.source '{DataSources.Pool}'");
        if (d.Source == DataSources.Pool)
        {
            if (d.Pool is not { Length: > 0 })
                checks.Fail("data.pool", "must list the folders of the face pool");
            foreach (var f in d.Pool!)
                if (!checks.DirOk(f))
                    throw FaceDistillException.ForFile(f, "face-pool folder not found (data.pool)");
            var pool = d.Pool!.Select(f => Path.GetFullPath(f).TrimEnd('/')).ToHashSet();
            foreach (var f in d.Identities ?? [])
                if (!pool.Contains(Path.GetFullPath(f).TrimEnd('/')))
                    checks.Fail("data.identities", $"'{f}' is not one of data.pool's folders");
        }
        else if (d.Source != DataSources.Synthetic)
        {
            if (string.IsNullOrWhiteSpace(d.Path))
                checks.Fail("data.path", $"is required for data.source '{d.Source}'");
            if (!(source.PathIsFile ? checks.FileOk(d.Path!) : checks.DirOk(d.Path!)))
                throw FaceDistillException.ForFile(
                    d.Path!,
                    $"{(source.PathIsFile ? "label file" : "dataset directory")} not found (data.path)"
                );
        }
        checks.InRange("data.imageSize", d.ImageSize, 16, 512);
        checks.Fraction("data.centerCrop", d.CenterCrop);
        checks.OneOf("data.onError", d.OnError, ["skip", "fail"]);
        checks.InRange("data.workers", d.Workers, 1, 64);
        checks.BelowOne("data.valFraction", d.ValFraction);
        checks.NonNegative("data.maxImages", d.MaxImages);
        checks.Fraction("data.labelledFraction", d.LabelledFraction);
        checks.Parses("data.view", () => FaceViews.Parse(d.View));
        checks.NonNegative("data.maxTestImages", d.MaxTestImages);
        if (d.TestPath is not null)
        {
            if (d.Source == DataSources.Synthetic)
                checks.Fail("data.testPath", "is not used with synthetic data (it makes its own held-out set)");
            if (!(source.PathIsFile ? checks.FileOk(d.TestPath) : checks.DirOk(d.TestPath)))
                throw FaceDistillException.ForFile(d.TestPath, "test set not found (data.testPath)");
        }
        if (d.Landmarks is not null && d.Landmarks != DatasetLandmarks.Zoo && d.Source != DataSources.Pool)
        {
            if (d.Source == DataSources.Synthetic)
                checks.Fail("data.landmarks", "is not used with synthetic data (the renderer knows its landmarks)");
            if (!checks.FileOk(d.Landmarks))
                throw FaceDistillException.ForFile(d.Landmarks, "landmarks file not found (data.landmarks)");
        }
    }

    private static void Synthetic(SyntheticConfig s, ConfigChecks checks)
    {
        checks.InRange("data.synthetic.identities", s.Identities, 1, 100_000);
        checks.Describe("data.synthetic.seed", "any integer (fixes the rendered faces)");
        checks.InRange("data.synthetic.imagesPerIdentity", s.ImagesPerIdentity, 2, 10_000);
        checks.InRange("data.synthetic.valIdentities", s.ValIdentities, 2, 100_000);
        checks.InRange("data.synthetic.valImagesPerIdentity", s.ValImagesPerIdentity, 2, 10_000);
        checks.InRange("data.synthetic.renderSize", s.RenderSize, 32, 512);
        checks.InRange("data.synthetic.difficulty", s.Difficulty, 0, 2);
    }

    private static void Augment(AugmentConfig a, ConfigChecks checks)
    {
        checks.Fraction("data.augment.scaleMin", a.ScaleMin);
        checks.Fraction("data.augment.scaleMax", a.ScaleMax);
        if (a.ScaleMin > a.ScaleMax)
            checks.Fail(
                "data.augment.scaleMin",
                $"({a.ScaleMin}) must not exceed data.augment.scaleMax ({a.ScaleMax})"
            );
        checks.Fraction("data.augment.shift", a.Shift, allowZero: true);
        checks.Fraction("data.augment.brightness", a.Brightness, allowZero: true);
        checks.Fraction("data.augment.contrast", a.Contrast, allowZero: true);
        checks.Fraction("data.augment.saturation", a.Saturation, allowZero: true);
    }

    private static void Model(ModelConfig m, int imageSize, ConfigChecks checks)
    {
        checks.OneOf("model.backbone", m.Backbone, Backbones.Registry.Names);
        checks.Positive("model.embeddingSize", m.EmbeddingSize);
        checks.InRange("model.embeddingSize", m.EmbeddingSize, 2, 65_536);
        checks.Positive("model.width", m.Width);
        checks.InRange("model.width", m.Width, 0.01, 16);
        checks.BelowOne("model.dropout", m.Dropout);
        checks.OneOf("model.output", m.Output, IResNet.Outputs);
        if (m.Output != "fc" && !m.Backbone.StartsWith("iresnet", StringComparison.Ordinal))
            checks.Fail("model.output", $"'{m.Output}' applies to the iresnet backbones only, not {m.Backbone}");
        if (Backbones.Registry.Get(m.Backbone).InputRule(imageSize) is { } problem)
            checks.Fail("data.imageSize", $"{problem} (for {m.Backbone})");
        checks.OneOf("model.head.type", m.Head.Type, Heads.Registry.Names);
        checks.Positive("model.head.s", m.Head.S);
        checks.InRange("model.head.s", m.Head.S, 1e-3, 1e4);
        if (m.Head.M1 is { } m1)
            checks.InRange("model.head.m1", m1, 0.1, 10);
        if (m.Head.M2 is { } m2)
            checks.InRange("model.head.m2", m2, -Math.PI / 2, Math.PI / 2);
        if (m.Head.M3 is { } m3)
            checks.InRange("model.head.m3", m3, -1, 1);
        Heads.Registry.Get(m.Head.Type).Validate?.Invoke(m, checks);
    }

    private static void Train(TrainConfig t, ConfigChecks checks)
    {
        checks.Positive("train.epochs", t.Epochs);
        checks.InRange("train.epochs", t.Epochs, 1, 100_000);
        checks.Positive("train.batchSize", t.BatchSize);
        checks.InRange("train.batchSize", t.BatchSize, 1, 65_536);
        checks.Describe("train.batchSize", "<= the number of training images (checked once the data is read)");
        checks.OneOf("train.optimizer.type", t.Optimizer.Type, Optimizers);
        checks.Positive("train.optimizer.lr", t.Optimizer.Lr);
        checks.InRange("train.optimizer.lr", t.Optimizer.Lr, 1e-12, 100);
        checks.BelowOne("train.optimizer.momentum", t.Optimizer.Momentum);
        checks.BelowOne("train.optimizer.beta1", t.Optimizer.Beta1);
        checks.BelowOne("train.optimizer.beta2", t.Optimizer.Beta2);
        checks.Describe("train.seed", "any integer (fixes the initial weights, the data order and the augmentation)");
        checks.NonNegative("train.optimizer.weightDecay", t.Optimizer.WeightDecay);
        checks.InRange("train.optimizer.backboneLrScale", t.Optimizer.BackboneLrScale, 0, 1);
        checks.NonNegative("train.optimizer.freezeBackboneEpochs", t.Optimizer.FreezeBackboneEpochs);
        checks.Describe("train.optimizer.freezeBackboneEpochs", "< train.epochs");
        if (t.Optimizer.FreezeBackboneEpochs > 0 && t.Optimizer.FreezeBackboneEpochs >= t.Epochs)
            checks.Fail(
                "train.optimizer.freezeBackboneEpochs",
                $"must be below train.epochs ({t.Epochs}), found {t.Optimizer.FreezeBackboneEpochs}"
            );
        if (t.Optimizer.Nesterov && t.Optimizer.Momentum == 0)
            checks.Fail("train.optimizer.nesterov", "needs a positive momentum");
        checks.OneOf("train.schedule.type", t.Schedule.Type, Schedules);
        checks.NonNegative("train.schedule.warmupEpochs", t.Schedule.WarmupEpochs);
        checks.Describe("train.schedule.warmupEpochs", "<= train.epochs");
        if (t.Schedule.WarmupEpochs > t.Epochs)
            checks.Fail(
                "train.schedule.warmupEpochs",
                $"must be in [0, {t.Epochs}] (train.epochs), found {t.Schedule.WarmupEpochs}"
            );
        checks.Describe("train.schedule.milestones", "increasing epochs in (0, train.epochs)");
        for (int i = 0; i < t.Schedule.Milestones.Length; i++)
        {
            double m = t.Schedule.Milestones[i];
            if (!(m > 0 && m < t.Epochs) || (i > 0 && !(m > t.Schedule.Milestones[i - 1])))
                checks.Fail(
                    $"train.schedule.milestones[{i}]",
                    $"milestones must be increasing epochs in (0, {t.Epochs}) (train.epochs), found {m}"
                );
        }
        checks.Fraction("train.schedule.gamma", t.Schedule.Gamma);
        checks.InRange("train.schedule.minLrFraction", t.Schedule.MinLrFraction, 0, 1);
        checks.NonNegative("train.clipGradNorm", t.ClipGradNorm);
        checks.InRange("train.clipGradNorm", t.ClipGradNorm, 0, 1e6);
        checks.Positive("train.checkpointEvery", t.CheckpointEvery);
        checks.Positive("train.keepCheckpoints", t.KeepCheckpoints);
        checks.Positive("train.evalEvery", t.EvalEvery);
        checks.NonNegative("train.threads", t.Threads);
        checks.InRange("train.threads", t.Threads, 0, 256);
        if (t.Init is not null && !checks.FileOk(Path.Combine(t.Init, "config.json")))
            throw FaceDistillException.ForFile(t.Init, "not a FaceDistill run directory (train.init)");
    }

    private static void Eval(EvalConfig e, ConfigChecks checks)
    {
        checks.Positive("eval.batchSize", e.BatchSize);
        checks.InRange("eval.batchSize", e.BatchSize, 1, 65_536);
        checks.Fraction("eval.centerCrop", e.CenterCrop);
        checks.Positive("eval.pairsPerFold", e.PairsPerFold);
        checks.InRange("eval.pairsPerFold", e.PairsPerFold, 1, 100_000);
        if (e.View is not null)
            checks.Parses("eval.view", () => FaceViews.Parse(e.View));
        checks.OneOf("eval.pairSides", e.PairSides, ["both", "one"]);
        if ((e.Pairs is null) != (e.Images is null))
            checks.Fail(
                e.Pairs is null ? "eval.pairs" : "eval.images",
                "must be given together with " + (e.Pairs is null ? "eval.images" : "eval.pairs")
            );
        if (e.Pairs is not null && !checks.FileOk(e.Pairs))
            throw FaceDistillException.ForFile(e.Pairs, "pair list not found (eval.pairs)");
        if (e.Images is not null && !checks.DirOk(e.Images))
            throw FaceDistillException.ForFile(e.Images, "image directory not found (eval.images)");
        if (e.Landmarks is not null && e.Landmarks != DatasetLandmarks.Zoo)
        {
            if (e.Pairs is null)
                checks.Fail("eval.landmarks", "is only used with eval.pairs (synthetic pairs carry their landmarks)");
            if (!checks.FileOk(e.Landmarks))
                throw FaceDistillException.ForFile(e.Landmarks, "landmarks file not found (eval.landmarks)");
        }
    }
}
