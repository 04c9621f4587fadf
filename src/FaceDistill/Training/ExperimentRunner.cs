using System.Text.Json;
using System.Text.Json.Nodes;
using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Evaluation;

namespace FaceDistill.Training;

/// <summary>What one method of an experiment gave: per evaluation view, one report per seed (same seed order as the
/// plan), and the training time of each seed.</summary>
public sealed record MethodResult(string Name, string Kind, Dictionary<string, List<EvalReport>> Reports, List<double> TrainSeconds)
{
    /// <summary>The trained run directory of each seed (empty for teacher rows and combinations).</summary>
    public List<string> RunDirs { get; init; } = [];
    public bool IsReference => Kind == "reference";
}

public sealed record ExperimentResult(ExperimentPlan Plan, string Task, IReadOnlyList<string> Views, IReadOnlyList<MethodResult> Methods, string Directory);

/// <summary>
/// Runs an <see cref="ExperimentPlan"/>: every run for every seed (a run that already finished with the same config is
/// reused, one that was interrupted resumes from its last checkpoint, one with a different config is refused), then
/// evaluates each on every view, builds the combinations, and hands the results to <see cref="Reporting.ExperimentTable"/>.
/// </summary>
public static class ExperimentRunner
{
    /// <summary>Runs an <see cref="AlignStep"/> unless its output exists: aligned into <c>out.partial</c>, then renamed, so
    /// an interrupted step is redone rather than half-used.</summary>
    public static void PrepareData(AlignStep step, Action<string> log)
    {
        if (step.Done) return;
        log($"prepare: aligning {step.Input} into {step.Out}");
        var tmp = step.Out.TrimEnd('/', '\\') + ".partial";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        if (Directory.Exists(step.Out) && Directory.EnumerateFileSystemEntries(step.Out).Any())
            throw FaceDistillException.ForFile(step.Out, "exists without landmarks.csv (an unfinished or foreign folder): remove it to prepare it again");
        var files = Directory.EnumerateFiles(step.Input, "*", SearchOption.AllDirectories).Where(ImageCodec.IsImagePath).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw FaceDistillException.ForFile(step.Input, "folder holds no images (prepare)");
        var known = step.Landmarks is null ? null : LandmarkCsv.Read(step.Landmarks);
        using var zoo = new Faces.FaceAnalyzer
        {
            Detector = step.Detector == "tiny" ? Faces.FaceDetectorKind.Tiny : Faces.FaceDetectorKind.Ssd, MinConfidence = step.MinScore,
        };
        var report = new Faces.DatasetAligner(zoo, step.Size, step.FallbackBox).Run(step.Input, files, tmp, known);
        if (Directory.Exists(step.Out)) Directory.Delete(step.Out);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(step.Out))!);
        Directory.Move(tmp, step.Out);
        log($"prepare: {report.Aligned} of {files.Count} aligned into {step.Out}; {report.NoFace.Count} without a face, " +
            $"{report.Fallback.Count} from the centre box, {report.Unreadable.Count} unreadable");
    }

    public static ExperimentResult Run(ExperimentPlan plan, string runsRoot, Action<string>? log = null, CancellationToken cancel = default)
    {
        log ??= Console.Error.WriteLine;
        var dir = Path.Combine(runsRoot, plan.Name);
        Directory.CreateDirectory(dir);
        foreach (var step in plan.Prepare) PrepareData(step, log);
        var baseCfg = plan.Config(plan.Run(plan.Baseline), plan.Seeds[0], runsRoot, checkFiles: false);
        var task = FaceTaskExtensions.Parse(baseCfg.Task);
        var views = plan.Views.Count > 0 ? plan.Views : [baseCfg.Eval.View ?? baseCfg.Data.View];
        var results = new List<MethodResult>();
        int total = plan.Runs.Sum(r => r.Reference ? 1 : plan.Seeds.Length), done = 0;
        foreach (var r in plan.Runs)
        {
            var m = new MethodResult(r.Name, r.Reference ? "reference" : "run", views.ToDictionary(v => v, _ => new List<EvalReport>()), []);
            foreach (var seed in r.Reference ? plan.Seeds.Take(1) : plan.Seeds)
            {
                cancel.ThrowIfCancellationRequested();
                log($"[{++done}/{total}] {plan.Name}: {plan.RunName(r, seed)}");
                if (r.Teacher is not null)
                {
                    var data = ExperimentData.From(plan.Config(plan.Run(plan.Baseline), seed, runsRoot));
                    var teacherReports = EvaluateTeacher(r.Teacher, baseCfg, data, views);
                    for (int k = 0; k < views.Count; k++) m.Reports[views[k]].Add(teacherReports[k]);
                    continue;
                }
                var cfg = plan.Config(r, seed, runsRoot);
                var runDir = plan.RunDirectory(runsRoot, r, seed);
                m.RunDirs.Add(runDir);
                m.TrainSeconds.Add(TrainOrReuse(cfg, dir, runDir, cancel));
                var reports = EvaluateViews(runDir, views);
                for (int k = 0; k < views.Count; k++) m.Reports[views[k]].Add(reports[k]);
            }
            results.Add(m);
        }
        foreach (var c in plan.Combine)
        {
            log($"combination {c.Name} = {string.Join(" + ", c.Of)}");
            var m = new MethodResult(c.Name, "combination", views.ToDictionary(v => v, _ => new List<EvalReport>()), []);
            foreach (var seed in plan.Seeds)
                foreach (var v in views)
                    m.Reports[v].Add(Combine(c.Of.Select(o => plan.RunDirectory(runsRoot, plan.Run(o), seed)).ToList(), v));
            results.Add(m);
        }
        return new ExperimentResult(plan, baseCfg.Task, views, results, dir);
    }

    /// <summary>Trains the run unless it already finished with this very config; returns its training time in seconds.</summary>
    private static double TrainOrReuse(ExperimentConfig cfg, string root, string runDir, CancellationToken cancel)
    {
        var report = Path.Combine(runDir, "report.json");
        var configPath = Path.Combine(runDir, "config.json");
        if (File.Exists(report) && File.Exists(configPath) && File.ReadAllText(configPath) == ConfigLoader.ToJson(cfg))
            return JsonNode.Parse(File.ReadAllText(report))?["seconds"]?.GetValue<double>() ?? double.NaN;
        var outcome = TrainingRun.Execute(cfg, root, RunDirectory.HasRun(runDir) ? ExistingRun.Resume : ExistingRun.Refuse, cancel: cancel);
        if (outcome.Result.Interrupted) throw new OperationCanceledException($"{runDir} was interrupted; run the experiment again to resume it");
        return outcome.Result.Elapsed.TotalSeconds;
    }

    /// <summary>The run's model evaluated on <paramref name="view"/> with the run's own protocol (pairs or held-out images).</summary>
    public static EvalReport Evaluate(string runDir, string view)
    {
        using var run = TrainedRun.Load(runDir, [$"eval.view={view}"]);
        var (evaluate, _) = TrainingRun.EvaluationFor(run.Config, run.Task, run.Data);
        return (evaluate ?? throw FaceDistillException.ForFile(runDir, "the run has nothing to evaluate on (no pairs or held-out images)"))(run.Model);
    }

    /// <summary>A teacher evaluated as it is (a reference row): verification on the experiment's pairs, the images at the
    /// students' input size (what the teacher sees while distilling), resized to the teacher's own input.</summary>
    public static IReadOnlyList<EvalReport> EvaluateTeacher(string spec, ExperimentConfig cfg, ExperimentData data, IReadOnlyList<string> views)
    {
        if (FaceTaskExtensions.Parse(cfg.Task) != FaceTask.Recognition)
            throw new FaceDistillException($"teacher row '{spec}': only recognition experiments evaluate a teacher as it is");
        var pairs = data.Pairs ?? throw new FaceDistillException($"teacher row '{spec}': the experiment has no verification pairs");
        using var teacher = Distillation.Teachers.TeacherFactory.Create(spec);
        var embed = Memoised((v, pr) => Embedder.Embed(teacher, pairs.Images, cfg.Data.ImageSize, data.EvalCenterCrop, cfg.Eval.Flip, cfg.Eval.BatchSize, pr, v));
        return views.Select(v => Evaluator.Verify(embed, pairs, null, FaceView.Parse(v), cfg.Eval.PairSides == "one")).ToList();
    }

    /// <summary>The run evaluated on every view. Verification embeds each view of the pair images once (the clean one,
    /// which one-sided protocols pair with every other view, included) — the same numbers as <see cref="Evaluate"/> per
    /// view, at a fraction of the cost.</summary>
    public static IReadOnlyList<EvalReport> EvaluateViews(string runDir, IReadOnlyList<string> views)
    {
        using (var run = TrainedRun.Load(runDir))
            if (run.Task == FaceTask.Recognition && run.Data.Pairs is { } pairs)
            {
                var c = run.Config;
                var embed = Memoised((v, pr) => Embedder.Embed(run.Model.Backbone, pairs.Images, run.Data.EvalCenterCrop, c.Eval.Flip, c.Eval.BatchSize, pr, v));
                return views.Select(v => Evaluator.Verify(embed, pairs, null, FaceView.Parse(v), c.Eval.PairSides == "one")).ToList();
            }
        return views.Select(v => Evaluate(runDir, v)).ToList();
    }

    private static Func<FaceView, IProgress<int>?, float[][]> Memoised(Func<FaceView, IProgress<int>?, float[][]> embed)
    {
        var memo = new Dictionary<string, float[][]>();
        return (v, pr) => memo.TryGetValue(v.Name, out var e) ? e : memo[v.Name] = embed(v, pr);
    }

    /// <summary>Georgescu et al.'s combination of the runs' embeddings (<see cref="EmbeddingCombination"/>), on <paramref name="view"/>.</summary>
    public static EvalReport Combine(IReadOnlyList<string> runDirs, string view)
    {
        var runs = runDirs.Select(d => TrainedRun.Load(d, [$"eval.view={view}"])).ToList();
        try
        {
            var first = runs[0];
            var task = first.Task;
            var v = FaceView.Parse(view);
            int bs = first.Config.Eval.BatchSize;
            double crop = first.Data.EvalCenterCrop;
            if (task == FaceTask.Recognition)
            {
                var pairs = first.Data.Pairs ?? throw FaceDistillException.ForFile(runDirs[0], "no verification pairs");
                var blocks = runs.Select(r => Embedder.Embed(r.Model.Backbone, pairs.Images, crop, r.Config.Eval.Flip, bs, view: v)).ToList();
                return EmbeddingCombination.Verify(blocks, pairs);
            }
            var test = first.Data.Validation ?? throw FaceDistillException.ForFile(runDirs[0], "no held-out images");
            // the linear model learns from the training images as the students saw them (their training view), un-augmented
            var trainView = FaceView.Parse(first.Config.Data.View);
            var trainBlocks = runs.Select(r => Embedder.Embed(r.Model.Backbone, r.Data.Train, r.Data.EvalCenterCrop, false, bs, view: trainView)).ToList();
            var testBlocks = runs.Select(r => Embedder.Embed(r.Model.Backbone, test, crop, false, bs, view: v)).ToList();
            var (xTrain, xTest) = EmbeddingCombination.Concatenate(trainBlocks, testBlocks);
            var trainIdx = Enumerable.Range(0, first.Data.Train.Count).ToArray();
            var testIdx = Enumerable.Range(0, test.Count).ToArray();
            if (task == FaceTask.Age)
            {
                trainIdx = trainIdx.Where(i => !float.IsNaN(first.Data.Train.Labels(i).Age)).ToArray();
                testIdx = testIdx.Where(i => !float.IsNaN(test.Labels(i).Age)).ToArray();
                var pred = EmbeddingCombination.Ridge(trainIdx.Select(i => xTrain[i]).ToArray(), trainIdx.Select(i => (double)first.Data.Train.Labels(i).Age).ToArray(),
                    testIdx.Select(i => xTest[i]).ToArray());
                return EmbeddingCombination.Regression(testIdx.Select(i => (double)test.Labels(i).Age).ToArray(), pred);
            }
            trainIdx = trainIdx.Where(i => task.ClassLabel(first.Data.Train.Labels(i)) >= 0).ToArray();
            testIdx = testIdx.Where(i => task.ClassLabel(test.Labels(i)) >= 0).ToArray();
            int classes = Math.Max(first.Data.Classes, test.ClassCount(task));
            var predicted = EmbeddingCombination.LogisticRegression(trainIdx.Select(i => xTrain[i]).ToArray(), trainIdx.Select(i => task.ClassLabel(first.Data.Train.Labels(i))).ToArray(),
                testIdx.Select(i => xTest[i]).ToArray(), classes);
            return EmbeddingCombination.Classification(testIdx.Select(i => task.ClassLabel(test.Labels(i))).ToArray(), predicted, classes);
        }
        finally
        {
            foreach (var r in runs) r.Dispose();
        }
    }
}
