using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Distillation;
using FaceDistill.Distillation.Teachers;
using FaceDistill.Evaluation;
using FaceDistill.Models;
using FaceDistill.Reporting;
using static TorchSharp.torch;

namespace FaceDistill.Training;

public sealed record RunOutcome(RunDirectory Run, TrainResult Result, ModelStats Stats, ExperimentData Data);

/// <summary>
/// One run, end to end (DESIGN.md's flow): validated config → run directory → data → model → trainer(objective) →
/// evaluation → report. The CLI's <c>train</c> and <c>demo</c> and the experiments call this.
/// </summary>
public static class TrainingRun
{
    /// <summary>How often a run goes back to its last checkpoint after an internal libtorch error before giving up.</summary>
    public const int MaxNativeRetries = 2;

    public static RunOutcome Execute(ExperimentConfig cfg, string runsRoot, ExistingRun mode, Objective? objective = null,
        long stopAfterStep = long.MaxValue, CancellationToken cancel = default)
    {
        if (cfg.Train.Threads > 0) set_num_threads(cfg.Train.Threads);
        var run = RunDirectory.Open(Path.Combine(runsRoot, cfg.Name), mode);
        var resolved = ConfigLoader.ToJson(cfg);
        if (mode == ExistingRun.Resume && File.Exists(run.ConfigPath) && File.ReadAllText(run.ConfigPath) != resolved)
            throw FaceDistillException.ForFile(run.ConfigPath, "the run was started with a different config; resume without changing it, or start a new run");
        AtomicFile.WriteAllText(run.ConfigPath, resolved);

        var task = FaceTaskExtensions.Parse(cfg.Task);
        var data = ExperimentData.From(cfg);
        ModelStats? stats = null;
        // the terms' own parameters (e.g. a feature-KD projection) start from the seed too, not from leftover RNG state
        manual_seed(Seeds.Derive(cfg.Train.Seed, 0x7E4));
        bool needsTeacher = objective is null && cfg.Distill.Method is not ("none" or "ddl");
        var loaderOptions = new DataLoaderOptions
        {
            BatchSize = cfg.Train.BatchSize, ImageSize = cfg.Data.ImageSize, CenterCrop = cfg.Data.CenterCrop, Shuffle = true, DropLast = true,
            Seed = cfg.Train.Seed, Workers = cfg.Data.Workers,
            OnBadImage = cfg.Data.OnError == "fail" ? BadImagePolicy.Fail : BadImagePolicy.Skip,
            Augment = new AugmentOptions
            {
                Flip = cfg.Data.Augment.Flip, ScaleMin = cfg.Data.Augment.ScaleMin, ScaleMax = cfg.Data.Augment.ScaleMax, Shift = cfg.Data.Augment.Shift,
                Brightness = cfg.Data.Augment.Brightness, Contrast = cfg.Data.Augment.Contrast, Saturation = cfg.Data.Augment.Saturation,
            },
        };
        using var teacher = needsTeacher ? MakeTeacher(cfg.Distill, data, task, loaderOptions, cfg.Model.Head.S) : null;
        var d = cfg.Distill;
        objective ??= d.Method == "none"
            ? Objective.TaskOnly
            : new Objective([DistillationTerm(d.Lambda is { } l ? d with { Weight = l } : d, teacher, data.Classes, cfg.Model.EmbeddingSize, task)])
            {
                TaskWeight = d.Lambda is { } lambda ? 1 - lambda : 1,
            };
        if (objective.StudentView != cfg.Data.View) objective = new Objective(objective.Terms) { StudentView = cfg.Data.View, TaskWeight = objective.TaskWeight };
        var loader = new DataLoader(data.Train, loaderOptions with { Views = [FaceView.Clean, .. objective.ExtraViews.Select(FaceView.Parse)] });
        var (evaluate, columns) = EvaluationFor(cfg, task, data);
        var trainer = new Trainer(cfg.Train, task, objective);
        TrainResult result;
        for (int attempt = 0; ; attempt++)
        {
            // a fresh model each attempt: the seed fixes its initial weights, and a checkpoint (if any) its trained state
            manual_seed(cfg.Train.Seed);
            using var model = ModelFactory.Create(cfg, data.Classes, data.AgeMean);
            stats ??= ModelStats.Measure(model.Backbone);
            if (cfg.Train.Init is { } init && Checkpoint.Latest(run.CheckpointDir) is null) InitFrom(init, model);
            try
            {
                result = trainer.Fit(model, loader, run, evaluate, columns, mode == ExistingRun.Resume || attempt > 0, stopAfterStep, cancel);
                break;
            }
            catch (System.Runtime.InteropServices.ExternalException e) when (attempt < MaxNativeRetries)
            {
                // An intermittent internal libtorch error (docs/platform-notes.md). Training is deterministic, so going
                // back to the last checkpoint (or to the start) reproduces exactly what an uninterrupted run would do.
                var from = Checkpoint.Latest(run.CheckpointDir) ?? "the start";
                Console.Error.WriteLine($"warning: libtorch raised an internal error ({e.Message.Split('\n')[0].Trim()}); " +
                                        $"continuing from {from} (retry {attempt + 1} of {MaxNativeRetries})");
            }
        }
        if (loader.BadImages.Count > 0)
            Console.Error.WriteLine($"skipped {loader.BadImages.Count} undecodable image(s), e.g. {loader.BadImages.Values.First()}");
        if (!result.Interrupted) RunReport.Write(run.Path, cfg.Name, cfg.Task, stats, result, data.Train.Count);
        return new RunOutcome(run, result, stats!, data);
    }

    /// <summary>The distillation term a config asks for.</summary>
    /// <summary>The teacher a config asks for, reading its cache when asked; an embedding-only teacher under a logit
    /// distiller gets <see cref="CentroidLogits"/> (which need the cache's embeddings of the training set, so it is built
    /// even when distill.cache is off).</summary>
    private static OnlineTeacher MakeTeacher(DistillConfig d, ExperimentData data, FaceTask task, DataLoaderOptions options, double headScale)
    {
        var teacher = TeacherFactory.Create(d.Teacher!);
        bool centroidLogits = d.Method is "kd" or "dkd" or "gkd" && task != FaceTask.Age && teacher.Classes == 0 && teacher.EmbeddingSize > 0;
        if (!d.Cache && !centroidLogits) return new OnlineTeacher(teacher);
        var cache = TeacherOutputCache.OpenOrBuild(teacher, TeacherFactory.Fingerprint(d.Teacher!), data.Train, options, d.CacheDir);
        CentroidLogits? centroids = null;
        if (centroidLogits)
        {
            centroids = CentroidLogits.FromCache(cache, data.Train, task, data.Classes, d.CentroidScale ?? headScale);
            Console.Error.WriteLine($"teacher {teacher.Name} has no logits: using s·cos to its {data.Classes} training-identity centroids (s = {centroids.Scale})");
        }
        if (d.Cache) return new OnlineTeacher(teacher, cache: cache, centroids: centroids);
        cache.Dispose();
        return new OnlineTeacher(teacher, centroids: centroids);
    }

    /// <summary>Fine-tuning: copies every parameter and buffer of <paramref name="runDir"/>'s latest checkpoint whose name and
    /// shape match into <paramref name="model"/> (e.g. everything but a head over different classes).</summary>
    public static void InitFrom(string runDir, FaceModel model)
    {
        using var source = TrainedRun.Load(runDir);
        var from = source.Model.state_dict();
        int copied = 0;
        var skipped = new List<string>();
        using (no_grad())
            foreach (var (name, t) in model.state_dict())
            {
                if (from.TryGetValue(name, out var s) && s.shape.SequenceEqual(t.shape)) { t.copy_(s); copied++; }
                else skipped.Add(name);
            }
        if (copied == 0) throw FaceDistillException.ForFile(runDir, "no weight of that run fits this model (train.init)");
        if (skipped.Count > 0) Console.Error.WriteLine($"train.init: {copied} tensors from {runDir}; {skipped.Count} kept at their initial values ({string.Join(", ", skipped.Take(4))}{(skipped.Count > 4 ? ", …" : "")})");
    }

    public static IObjectiveTerm DistillationTerm(DistillConfig d, OnlineTeacher? teacher, int classes, int embeddingSize, FaceTask task = FaceTask.Recognition) => d.Method switch
    {
        "ddl" => new DistributionDistillationTerm(d.HardView, d.Weight),
        _ when teacher is null => throw new FaceDistillException($"distill.method '{d.Method}' needs a teacher (distill.teacher)"),
        "kd" when task == FaceTask.Age => new RegressionDistillation(teacher, d.Weight),
        "triplet" => new TripletDistillation(teacher, embeddingSize, task, d.Weight, d.Margin, TripletDistillation.ParseMining(d.Mining), d.AgeBin),
        "kd" => new LogitDistillation(teacher, LogitMethod.Kd, classes, d.Weight, d.Temperature, rampEpochs: d.RampEpochs),
        "dkd" => new LogitDistillation(teacher, LogitMethod.Dkd, classes, d.Weight, d.Temperature, d.Alpha, d.Beta, rampEpochs: d.RampEpochs),
        "gkd" => new LogitDistillation(teacher, LogitMethod.Gkd, classes, d.Weight, d.Temperature, d.Alpha, d.Beta, d.Threshold, d.TopK, d.RampEpochs),
        "feature" => new FeatureDistillation(teacher, embeddingSize, d.FeatureLoss, d.Weight),
        _ => throw new FaceDistillException($"unknown distill.method '{d.Method}'"),
    };

    public static (Func<FaceModel, EvalReport>? Evaluate, string[] Columns) EvaluationFor(ExperimentConfig cfg, FaceTask task, ExperimentData data)
    {
        int bs = cfg.Eval.BatchSize;
        double crop = data.EvalCenterCrop;
        var view = FaceView.Parse(cfg.Eval.View ?? cfg.Data.View);
        if (task == FaceTask.Recognition)
        {
            if (data.Pairs is null) return (null, []);
            var cols = new[] { "acc", "acc_std", "auc", "eer" }.Concat(Verification.StandardFars.Select(f => $"tar@far={f:0.###}")).ToArray();
            return (m => Evaluator.Verify(m.Backbone, data.Pairs, crop, cfg.Eval.Flip, bs, view: view, oneSide: cfg.Eval.PairSides == "one"), cols);
        }
        if (data.Validation is null) return (null, []);
        if (task == FaceTask.Age) return (m => Evaluator.Regress(m, data.Validation, crop, bs, view: view), ["mae", "rmse"]);
        return (m => Evaluator.Classify(m, data.Validation, task, crop, bs, view: view), ["acc", "balanced_acc"]);
    }
}
