using FaceDistill.Core;

namespace FaceDistill.Config;

/// <summary>Value checks beyond types: names from fixed sets, ranges, files that must exist.</summary>
public static class ConfigValidator
{
    public static readonly string[] Tasks = ["recognition", "expression", "age", "gender"];
    public static readonly string[] Sources = ["synthetic", "folder", "utkface", "csv"];
    public static readonly string[] Backbones = ["mobilefacenet", "iresnet18", "iresnet34", "iresnet50", "iresnet100", "resnet50", "vggf", "vgg16"];
    public static readonly string[] Heads = ["arcface", "cosface", "combined", "softmax", "multiface"];
    public static readonly string[] Optimizers = ["sgd", "adamw"];
    public static readonly string[] Schedules = ["cosine", "step", "constant"];

    /// <param name="planned">Paths an experiment's <c>prepare</c> steps will create (accepted though absent yet).</param>
    public static void Validate(ExperimentConfig c, string source, Func<string, bool>? planned = null)
    {
        bool FileOk(string p) => File.Exists(p) || planned?.Invoke(p) == true;
        bool DirOk(string p) => Directory.Exists(p) || planned?.Invoke(p) == true;
        void Fail(string key, string problem) => throw FaceDistillException.ForFile(source, $"key '{key}' {problem}");
        void OneOf(string key, string value, string[] allowed)
        {
            if (!allowed.Contains(value.ToLowerInvariant())) Fail(key, $"is '{value}', expected one of {string.Join(", ", allowed)}");
        }
        void View(string key, string name)
        {
            try { Data.FaceView.Parse(name); }
            catch (FaceDistillException err) { Fail(key, err.Message); }
        }
        void Positive(string key, double v) { if (!(v > 0) || double.IsInfinity(v)) Fail(key, $"must be positive, found {v}"); }
        void NonNegative(string key, double v) { if (!(v >= 0) || double.IsInfinity(v)) Fail(key, $"must be >= 0, found {v}"); }
        void Fraction(string key, double v, bool allowZero = false) { if (!(v > 0 || (allowZero && v == 0)) || v > 1) Fail(key, $"must be in {(allowZero ? "[0" : "(0")}, 1], found {v}"); }

        if (string.IsNullOrWhiteSpace(c.Name) || c.Name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || c.Name is "." or "..")
            Fail("name", $"'{c.Name}' is not usable as a run directory name");
        OneOf("task", c.Task, Tasks);

        var d = c.Data;
        OneOf("data.source", d.Source, Sources);
        if (d.Source != "synthetic")
        {
            if (string.IsNullOrWhiteSpace(d.Path)) Fail("data.path", $"is required for data.source '{d.Source}'");
            bool exists = d.Source == "csv" ? FileOk(d.Path) : DirOk(d.Path);
            if (!exists) throw FaceDistillException.ForFile(d.Path!, $"{(d.Source == "csv" ? "label file" : "dataset directory")} not found (data.path)");
        }
        if (d.ImageSize < 16 || d.ImageSize > 512) Fail("data.imageSize", $"must be in [16, 512], found {d.ImageSize}");
        Fraction("data.centerCrop", d.CenterCrop);
        OneOf("data.onError", d.OnError, ["skip", "fail"]);
        if (d.Workers < 1 || d.Workers > 64) Fail("data.workers", $"must be in [1, 64], found {d.Workers}");
        if (!(d.ValFraction >= 0 && d.ValFraction < 1)) Fail("data.valFraction", $"must be in [0, 1), found {d.ValFraction}");
        NonNegative("data.maxImages", d.MaxImages);
        View("data.view", d.View);
        NonNegative("data.maxTestImages", d.MaxTestImages);
        if (d.TestPath is not null)
        {
            if (d.Source == "synthetic") Fail("data.testPath", "is not used with synthetic data (it makes its own held-out set)");
            bool ok = d.Source == "csv" ? FileOk(d.TestPath) : DirOk(d.TestPath);
            if (!ok) throw FaceDistillException.ForFile(d.TestPath, "test set not found (data.testPath)");
        }
        if (d.Landmarks is not null && d.Landmarks != "zoo")
        {
            if (d.Source == "synthetic") Fail("data.landmarks", "is not used with synthetic data (the renderer knows its landmarks)");
            if (!FileOk(d.Landmarks)) throw FaceDistillException.ForFile(d.Landmarks, "landmarks file not found (data.landmarks)");
        }
        var s = d.Synthetic;
        Positive("data.synthetic.identities", s.Identities);
        if (s.ImagesPerIdentity < 2) Fail("data.synthetic.imagesPerIdentity", $"must be at least 2, found {s.ImagesPerIdentity}");
        if (s.ValIdentities < 2) Fail("data.synthetic.valIdentities", $"must be at least 2, found {s.ValIdentities}");
        if (s.ValImagesPerIdentity < 2) Fail("data.synthetic.valImagesPerIdentity", $"must be at least 2, found {s.ValImagesPerIdentity}");
        if (s.RenderSize < 32 || s.RenderSize > 512) Fail("data.synthetic.renderSize", $"must be in [32, 512], found {s.RenderSize}");
        if (!(s.Difficulty >= 0 && s.Difficulty <= 2)) Fail("data.synthetic.difficulty", $"must be in [0, 2], found {s.Difficulty}");
        var a = d.Augment;
        Fraction("data.augment.scaleMin", a.ScaleMin);
        Fraction("data.augment.scaleMax", a.ScaleMax);
        if (a.ScaleMin > a.ScaleMax) Fail("data.augment.scaleMin", $"({a.ScaleMin}) must not exceed data.augment.scaleMax ({a.ScaleMax})");
        Fraction("data.augment.shift", a.Shift, allowZero: true);
        Fraction("data.augment.brightness", a.Brightness, allowZero: true);
        Fraction("data.augment.contrast", a.Contrast, allowZero: true);
        Fraction("data.augment.saturation", a.Saturation, allowZero: true);

        var m = c.Model;
        OneOf("model.backbone", m.Backbone, Backbones);
        Positive("model.embeddingSize", m.EmbeddingSize);
        Positive("model.width", m.Width);
        if (!(m.Dropout >= 0 && m.Dropout < 1)) Fail("model.dropout", $"must be in [0, 1), found {m.Dropout}");
        if (m.Backbone == "mobilefacenet" && d.ImageSize % 16 != 0) Fail("data.imageSize", $"must be divisible by 16 for mobilefacenet, found {d.ImageSize}");
        if (m.Backbone.StartsWith("iresnet") && d.ImageSize % 16 != 0) Fail("data.imageSize", $"must be divisible by 16 for {m.Backbone}, found {d.ImageSize}");
        if (m.Backbone is "vggf" && d.ImageSize < 64) Fail("data.imageSize", $"must be at least 64 for vggf, found {d.ImageSize}");
        if (m.Backbone is "vgg16" or "resnet50" && d.ImageSize < 32) Fail("data.imageSize", $"must be at least 32 for {m.Backbone}, found {d.ImageSize}");
        OneOf("model.head.type", m.Head.Type, Heads);
        Positive("model.head.s", m.Head.S);
        if (m.Head.Type == "multiface")
        {
            if (m.Head.Groups < 1 || m.EmbeddingSize % m.Head.Groups != 0)
                Fail("model.head.groups", $"({m.Head.Groups}) must divide model.embeddingSize ({m.EmbeddingSize})");
            OneOf("model.head.groupHead", m.Head.GroupHead, ["arcface", "cosface", "combined", "softmax"]);
            NonNegative("model.head.fullWeight", m.Head.FullWeight);
        }

        var t = c.Train;
        Positive("train.epochs", t.Epochs);
        Positive("train.batchSize", t.BatchSize);
        OneOf("train.optimizer.type", t.Optimizer.Type, Optimizers);
        Positive("train.optimizer.lr", t.Optimizer.Lr);
        if (!(t.Optimizer.Momentum >= 0 && t.Optimizer.Momentum < 1)) Fail("train.optimizer.momentum", $"must be in [0, 1), found {t.Optimizer.Momentum}");
        NonNegative("train.optimizer.weightDecay", t.Optimizer.WeightDecay);
        if (t.Optimizer.Nesterov && t.Optimizer.Momentum == 0) Fail("train.optimizer.nesterov", "needs a positive momentum");
        OneOf("train.schedule.type", t.Schedule.Type, Schedules);
        NonNegative("train.schedule.warmupEpochs", t.Schedule.WarmupEpochs);
        Fraction("train.schedule.gamma", t.Schedule.Gamma);
        if (!(t.Schedule.MinLrFraction >= 0 && t.Schedule.MinLrFraction <= 1)) Fail("train.schedule.minLrFraction", $"must be in [0, 1], found {t.Schedule.MinLrFraction}");
        NonNegative("train.clipGradNorm", t.ClipGradNorm);
        Positive("train.checkpointEvery", t.CheckpointEvery);
        Positive("train.keepCheckpoints", t.KeepCheckpoints);
        Positive("train.evalEvery", t.EvalEvery);
        NonNegative("train.threads", t.Threads);
        if (t.Init is not null && !File.Exists(Path.Combine(t.Init, "config.json")))
            throw FaceDistillException.ForFile(t.Init, "not a FaceDistill run directory (train.init)");

        var k = c.Distill;
        OneOf("distill.method", k.Method, ["none", "kd", "dkd", "gkd", "feature", "triplet", "ddl"]);
        if (k.Method == "ddl")
        {
            try { Data.FaceView.Parse(k.HardView); }
            catch (FaceDistillException err) { Fail("distill.hardView", err.Message); }
            NonNegative("distill.weight", k.Weight);
            if (m.Head.Type == "multiface") Fail("distill.method", "'ddl' needs one margin head; model.head.type 'multiface' has one per group");
        }
        else if (k.Method != "none")
        {
            if (string.IsNullOrWhiteSpace(k.Teacher)) Fail("distill.teacher", $"is required for distill.method '{k.Method}'");
            if (k.Teacher!.StartsWith("zoo:", StringComparison.Ordinal))
            {
                OneOf("distill.teacher", k.Teacher[4..], ["recognition", "expression", "agegender"]);
                if (k.Method is "kd" && c.Task == "age" && k.Teacher != "zoo:agegender")
                    Fail("distill.teacher", $"regression KD on age needs an age teacher ('zoo:agegender' or an age run), not '{k.Teacher}'");
                // zoo:recognition only embeds: it gets centroid logits over the student's classes (CentroidLogits)
                if (k.Method is "kd" or "dkd" or "gkd" && c.Task != "age" && k.Teacher != "zoo:recognition")
                    Fail("distill.method", $"'{k.Method}' needs the teacher's logits over the student's classes; '{k.Teacher}' has face-api's own (use 'feature')");
            }
            else if (k.Teacher.StartsWith("onnx:", StringComparison.Ordinal))
            {
                var path = Distillation.Teachers.OnnxTeacherOptions.Parse(k.Teacher[5..]).Path;
                if (!File.Exists(path)) throw FaceDistillException.ForFile(path, "ONNX teacher model not found (distill.teacher)");
            }
            else
            {
                var dir = k.Teacher.StartsWith("run:", StringComparison.Ordinal) ? k.Teacher[4..] : k.Teacher;
                if (!Directory.Exists(dir)) throw FaceDistillException.ForFile(dir, "teacher run directory not found (distill.teacher)");
            }
            NonNegative("distill.weight", k.Weight);
            if (k.CentroidScale is { } cs) Positive("distill.centroidScale", cs);
            Positive("distill.temperature", k.Temperature);
            NonNegative("distill.alpha", k.Alpha);
            NonNegative("distill.beta", k.Beta);
            Fraction("distill.threshold", k.Threshold);
            NonNegative("distill.topK", k.TopK);
            NonNegative("distill.rampEpochs", k.RampEpochs);
            OneOf("distill.featureLoss", k.FeatureLoss, ["cosine", "l2"]);
            if (k.Lambda is { } lambda) Fraction("distill.lambda", lambda, allowZero: true);
            Positive("distill.margin", k.Margin);
            OneOf("distill.mining", k.Mining, ["semihard", "hardest", "random"]);
            Positive("distill.ageBin", k.AgeBin);
            if (k.Method is "dkd" or "gkd" && c.Task == "age") Fail("distill.method", $"'{k.Method}' needs class logits; task 'age' has none (use 'kd' for regression KD, or 'feature')");
            if (k.Method is "kd" or "dkd" or "gkd" && m.Head.Type == "multiface") Fail("distill.method", $"'{k.Method}' needs one logit set; model.head.type 'multiface' has one per group");
        }

        var e = c.Eval;
        Positive("eval.batchSize", e.BatchSize);
        Fraction("eval.centerCrop", e.CenterCrop);
        Positive("eval.pairsPerFold", e.PairsPerFold);
        if (e.View is not null) View("eval.view", e.View);
        OneOf("eval.pairSides", e.PairSides, ["both", "one"]);
        if ((e.Pairs is null) != (e.Images is null)) Fail(e.Pairs is null ? "eval.pairs" : "eval.images", "must be given together with " + (e.Pairs is null ? "eval.images" : "eval.pairs"));
        if (e.Pairs is not null && !FileOk(e.Pairs)) throw FaceDistillException.ForFile(e.Pairs, "pair list not found (eval.pairs)");
        if (e.Images is not null && !DirOk(e.Images)) throw FaceDistillException.ForFile(e.Images, "image directory not found (eval.images)");
        if (e.Landmarks is not null && e.Landmarks != "zoo")
        {
            if (e.Pairs is null) Fail("eval.landmarks", "is only used with eval.pairs (synthetic pairs carry their landmarks)");
            if (!FileOk(e.Landmarks)) throw FaceDistillException.ForFile(e.Landmarks, "landmarks file not found (eval.landmarks)");
        }
    }
}
