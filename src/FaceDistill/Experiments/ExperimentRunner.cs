using System.Text.Json;
using System.Text.Json.Nodes;
using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Evaluation;
using FaceDistill.Runs;

namespace FaceDistill.Experiments;

/// <summary>What one method of an experiment gave: per evaluation view, one report per seed (same seed order as the
/// plan), and the training time of each seed.</summary>
public sealed record MethodResult(
    string Name,
    string Kind,
    Dictionary<string, List<EvalReport>> Reports,
    List<double> TrainSeconds
)
{
    /// <summary>The trained run directory of each seed (empty for teacher rows and combinations).</summary>
    public List<string> RunDirs { get; init; } = [];
    public bool IsReference => Kind == "reference";
}

public sealed record ExperimentResult(
    ExperimentPlan Plan,
    string Task,
    IReadOnlyList<string> Views,
    IReadOnlyList<MethodResult> Methods,
    string Directory
)
{
    /// <summary>The sets derived from runs (mined, condensed), per seed, in build order.</summary>
    public IReadOnlyList<DerivedSummary> Derived { get; init; } = [];
}

/// <summary>
/// Runs an <see cref="ExperimentPlan"/>: every run for every seed (a run that already finished with the same config is
/// reused, one that was interrupted resumes from its last checkpoint, one with a different config is refused), then
/// evaluates each on every view, builds the combinations, and hands the results to <see cref="ExperimentTable"/>.
/// </summary>
public static class ExperimentRunner
{
    public static ExperimentResult Run(
        ExperimentPlan plan,
        string runsRoot,
        Action<string>? log = null,
        CancellationToken cancel = default
    )
    {
        log ??= Log.Info;
        var dir = Path.Combine(runsRoot, plan.Name);
        Directory.CreateDirectory(dir);
        foreach (var step in plan.Prepare)
            DataPreparation.PrepareData(step, log, cancel);
        var baseRun = plan.Config(plan.Run(plan.Baseline), plan.Seeds[0], runsRoot, checkFiles: false);
        var baseCfg = baseRun.Settings;
        var task = baseRun.Task;
        var views = plan.Views.Count > 0 ? plan.Views : [baseCfg.Eval.View ?? baseCfg.Data.View];
        var columns = views.Concat(plan.CrossTests.Select(t => t.Name)).ToList();
        var results = new List<MethodResult>();
        var derived = new List<DerivedSummary>();
        int total = plan.Runs.Sum(r => r.Reference ? 1 : plan.Seeds.Length),
            done = 0;
        foreach (var r in plan.Runs)
        {
            var m = new MethodResult(
                r.Name,
                r.Reference ? "reference" : "run",
                columns.ToDictionary(v => v, _ => new List<EvalReport>()),
                []
            );
            foreach (var seed in r.Reference ? plan.Seeds.Take(1) : plan.Seeds)
            {
                cancel.ThrowIfCancellationRequested();
                log($"[{++done}/{total}] {plan.Name}: {plan.RunName(r, seed)}");
                if (r.Teacher is not null)
                {
                    // the baseline's data and crop size, or the crop size the row sets
                    var teacherCfg = plan.Config(
                        r.Set.Count > 0 ? r : plan.Run(plan.Baseline),
                        seed,
                        runsRoot,
                        checkFiles: false
                    ).Settings;
                    var data = RunData.From(plan.Config(plan.Run(plan.Baseline), seed, runsRoot).Settings);
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    var teacherReports = EvaluateTeacher(r.Teacher, teacherCfg, data, views, EmbeddingsDir(runsRoot));
                    if (data.Pairs is { } evaluated)
                    {
                        double ms = 1000 * clock.Elapsed.TotalSeconds / (views.Count * evaluated.Images.Count);
                        log(
                            $"{r.Teacher}: {clock.Elapsed.TotalSeconds:F0} s for {views.Count} view(s) of "
                                + $"{evaluated.Images.Count} images ({ms:F1} ms per face and view, loading included)"
                        );
                    }
                    for (int k = 0; k < views.Count; k++)
                        m.Reports[views[k]].Add(teacherReports[k]);
                    foreach (var (name, folder) in plan.CrossTests)
                        m.Reports[name].Add(CrossTestTeacher(r.Teacher, task, folder));
                    continue;
                }
                foreach (var d in plan.DerivedFor(r))
                    if (!derived.Any(x => x.Name == d.Name && x.Seed == seed))
                        derived.Add(DerivedSets.Ensure(plan, d, seed, runsRoot, log, cancel));
                var cfg = plan.Config(r, seed, runsRoot);
                var runDir = plan.RunDirectory(runsRoot, r, seed);
                m.RunDirs.Add(runDir);
                m.TrainSeconds.Add(TrainOrReuse(cfg, dir, runDir, cancel));
                var reports = EvaluateViews(runDir, views, EmbeddingsDir(runsRoot));
                for (int k = 0; k < views.Count; k++)
                    m.Reports[views[k]].Add(reports[k]);
                foreach (var (name, folder) in plan.CrossTests)
                    m.Reports[name].Add(CrossTest(runDir, folder));
            }
            results.Add(m);
        }
        foreach (var c in plan.Combine)
        {
            log($"combination {c.Name} = {string.Join(" + ", c.Of)}");
            var m = new MethodResult(
                c.Name,
                "combination",
                views.ToDictionary(v => v, _ => new List<EvalReport>()),
                []
            );
            foreach (var seed in plan.Seeds)
            {
                var reports = Combination.Combine(
                    c.Of.Select(o => plan.RunDirectory(runsRoot, plan.Run(o), seed)).ToList(),
                    views,
                    EmbeddingsDir(runsRoot)
                );
                for (int k = 0; k < views.Count; k++)
                    m.Reports[views[k]].Add(reports[k]);
            }
            results.Add(m);
        }
        return new ExperimentResult(plan, baseCfg.Task, columns, results, dir) { Derived = derived };
    }

    /// <summary>Trains the run unless it already finished with this very config; returns its training time in
    /// seconds.</summary>
    private static double TrainOrReuse(ResolvedRun run, string root, string runDir, CancellationToken cancel)
    {
        var report = Path.Combine(runDir, "report.json");
        var configPath = Path.Combine(runDir, "config.json");
        if (
            File.Exists(report)
            && File.Exists(configPath)
            && RunConfig.SameAs(File.ReadAllText(configPath), run.Settings)
        )
            return JsonNode.Parse(File.ReadAllText(report))?["seconds"]?.GetValue<double>() ?? double.NaN;
        var outcome = TrainingRun.Execute(
            run,
            root,
            RunDirectory.HasRun(runDir) ? ExistingRun.Resume : ExistingRun.Refuse,
            cancel: cancel
        );
        if (outcome.Result.Interrupted)
            throw new OperationCanceledException($"{runDir} was interrupted; run the experiment again to resume it");
        return outcome.Result.Elapsed.TotalSeconds;
    }

    /// <summary>The run's model evaluated on <paramref name="view"/> with the run's own protocol (pairs or held-out
    /// images).</summary>
    public static EvalReport Evaluate(string runDir, string view, string? cacheDir = null)
    {
        using var run = TrainedRun.Load(runDir, [$"eval.view={view}"]);
        var evaluate =
            Protocols.For(run.Config, run.Task, run.Data).Evaluate
            ?? throw FaceDistillException.ForFile(
                runDir,
                "the run has nothing to evaluate on (no pairs or held-out images)"
            );
        if (cacheDir is null || run.Task is not (FaceTask.Expression or FaceTask.Gender) || run.Data.Validation is null)
            return evaluate(run.Model);
        // a classification of the same weights on the same images and view: read back (ClassificationCache)
        var key = DatasetFingerprint.Of(
            run.Data.Validation,
            32,
            TeacherFactory.Fingerprint(runDir),
            "run-classification",
            view,
            run.Data.EvalCenterCrop.ToString(System.Globalization.CultureInfo.InvariantCulture),
            run.Config.Eval.BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture)
        );
        return ClassificationCache.GetOrCompute(cacheDir, key, () => evaluate(run.Model));
    }

    /// <summary>A teacher evaluated as it is (a reference row): verification on the experiment's pairs, the images at
    /// the students' input size (what the teacher sees while distilling), resized to the teacher's own input.</summary>
    public static IReadOnlyList<EvalReport> EvaluateTeacher(
        string spec,
        RunSettings cfg,
        RunDatasets data,
        IReadOnlyList<string> views,
        string? embeddingsDir = null
    )
    {
        var task = FaceTaskExtensions.Parse(cfg.Task);
        if (task == FaceTask.Expression && spec == "zoo:expression")
            return ExpressionTeacher(data, views, embeddingsDir);
        if (task == FaceTask.Expression && spec == "zoo:emotion")
            return ClassifyingTeacher(spec, cfg, data, views, embeddingsDir);
        if (task != FaceTask.Recognition)
            throw new FaceDistillException(
                $"teacher row '{spec}': recognition experiments evaluate any teacher as it is, expression ones "
                    + "zoo:expression or zoo:emotion"
            );
        var pairs =
            data.Pairs
            ?? throw new FaceDistillException($"teacher row '{spec}': the experiment has no verification pairs");
        using var teacher = TeacherFactory.Create(spec);
        var settings = $"teacher|{cfg.Data.ImageSize}|{data.EvalCenterCrop}|{cfg.Eval.Flip}";
        return Protocols.VerifyViews(
            RunEmbeddings.Cached(
                embeddingsDir,
                TeacherFactory.Fingerprint(spec),
                pairs,
                settings,
                cfg.Eval.Landmarks,
                (v, pr) =>
                    Embedder.Embed(
                        teacher,
                        pairs.Images,
                        cfg.Data.ImageSize,
                        data.EvalCenterCrop,
                        cfg.Eval.Flip,
                        cfg.Eval.BatchSize,
                        pr,
                        v
                    )
            ),
            pairs,
            views,
            cfg.Eval.PairSides == "one"
        );
    }

    private static string EmbeddingsDir(string runsRoot) => Path.Combine(runsRoot, ".embeddings");

    /// <summary>The run's model on a cross-dataset test folder (class = folder), the images as they are.</summary>
    public static EvalReport CrossTest(string runDir, string folder)
    {
        using var run = TrainedRun.Load(runDir);
        var test = FileFaceDataset.FromImageFolder(folder, run.Task);
        return Evaluator.Classify(run.Model, test, run.Task, run.Data.EvalCenterCrop, run.Config.Eval.BatchSize);
    }

    private static EvalReport CrossTestTeacher(string spec, FaceTask task, string folder)
    {
        if (task != FaceTask.Expression || spec != "zoo:expression")
            throw new FaceDistillException($"teacher row '{spec}': only zoo:expression is tested on crossTests");
        using var zoo = new Faces.FaceAnalyzer();
        var test = FileFaceDataset.FromImageFolder(folder, task);
        return TeacherBaselines.Expression(zoo, test, test.ClassNames, folder);
    }

    /// <summary>A teacher with logits in FaceDistill's class order (<c>zoo:emotion</c>) on the held-out images of each
    /// view, the images at the students' input size (what it sees while distilling), resized to its own.</summary>
    private static IReadOnlyList<EvalReport> ClassifyingTeacher(
        string spec,
        RunSettings cfg,
        RunDatasets data,
        IReadOnlyList<string> views,
        string? cacheDir
    )
    {
        var test =
            data.Validation
            ?? throw new FaceDistillException($"teacher row '{spec}': the experiment has no held-out images");
        var task = FaceTaskExtensions.Parse(cfg.Task);
        return views
            .Select(v =>
            {
                EvalReport Classify()
                {
                    using var teacher = TeacherFactory.Create(spec);
                    using var bar = Progress.Start($"{spec} ({v})", test.Count);
                    var logits = Embedder.TeacherLogits(
                        teacher,
                        test,
                        cfg.Data.ImageSize,
                        data.EvalCenterCrop,
                        cfg.Eval.BatchSize,
                        bar.AsProgress(),
                        Faces.FaceViews.Parse(v)
                    );
                    return Evaluator.Classify(logits, test, task);
                }
                if (cacheDir is null)
                    return Classify();
                var key = DatasetFingerprint.Of(
                    test,
                    32,
                    TeacherFactory.Fingerprint(spec),
                    "teacher-classification",
                    $"{cfg.Data.ImageSize}|{data.EvalCenterCrop}",
                    v
                );
                return ClassificationCache.GetOrCompute(cacheDir, key, Classify);
            })
            .ToList();
    }

    /// <summary>face-api's expression net on the held-out images, as face-api crops them (the whole crop is the face
    /// box → 68 landmarks → aligned box), FER2013's classes mapped onto its labels; on each view.</summary>
    private static IReadOnlyList<EvalReport> ExpressionTeacher(
        RunDatasets data,
        IReadOnlyList<string> views,
        string? cacheDir
    )
    {
        var test =
            data.Validation
            ?? throw new FaceDistillException("teacher row 'zoo:expression': the experiment has no held-out images");
        using var zoo = new Faces.FaceAnalyzer();
        var names = Enum.GetNames<Expression>().Select(n => n.ToLowerInvariant()).ToArray();
        return views
            .Select(v =>
            {
                EvalReport Classify()
                {
                    using var bar = Progress.Start($"zoo:expression ({v})", test.Count);
                    return TeacherBaselines.Expression(
                        zoo,
                        test,
                        names,
                        "zoo:expression",
                        new TeacherBaselines.Options(View: Faces.FaceViews.Parse(v)),
                        bar.AsProgress()
                    );
                }
                if (cacheDir is null)
                    return Classify();
                var key = DatasetFingerprint.Of(
                    test,
                    32,
                    TeacherFactory.Fingerprint("zoo:expression"),
                    "teacher-classification",
                    v
                );
                return ClassificationCache.GetOrCompute(cacheDir, key, Classify);
            })
            .ToList();
    }

    /// <summary>The run evaluated on every view. Verification embeds each view of the pair images once (the clean one,
    /// which one-sided protocols pair with every other view, included) — the same numbers as <see cref="Evaluate"/> per
    /// view, at a fraction of the cost.</summary>
    public static IReadOnlyList<EvalReport> EvaluateViews(
        string runDir,
        IReadOnlyList<string> views,
        string? embeddingsDir = null
    )
    {
        using (var run = TrainedRun.Load(runDir))
            if (run.Task == FaceTask.Recognition && run.Data.Pairs is { } pairs)
            {
                var c = run.Config;
                return Protocols.VerifyViews(
                    RunEmbeddings.Of(run, runDir, pairs, embeddingsDir),
                    pairs,
                    views,
                    c.Eval.PairSides == "one"
                );
            }
        return views.Select(v => Evaluate(runDir, v, embeddingsDir)).ToList();
    }
}
