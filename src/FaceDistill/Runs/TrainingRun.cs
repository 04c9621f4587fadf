using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Distillation;
using FaceDistill.Evaluation;
using FaceDistill.Faces;
using FaceDistill.Models;
using FaceDistill.Training;
using static TorchSharp.torch;

namespace FaceDistill.Runs;

public sealed record RunOutcome(RunDirectory Run, TrainResult Result, ModelStats Stats, RunDatasets Data);

/// <summary>
/// One run, end to end (docs/architecture.md): resolved config → run directory → data → teacher → objective → trainer →
/// evaluation → report. The CLI's <c>train</c> and <c>demo</c> and the experiments call this.
/// </summary>
public static class TrainingRun
{
    /// <summary>How often a run goes back to its last checkpoint after an internal libtorch error before giving
    /// up.</summary>
    public const int MaxNativeRetries = 2;

    /// <summary>A run from settings built in code (tests, plug-ins): resolved and checked once, then run.</summary>
    public static RunOutcome Execute(
        RunSettings settings,
        string runsRoot,
        ExistingRun mode,
        Objective? objective = null,
        long stopAfterStep = long.MaxValue,
        CancellationToken cancel = default
    ) =>
        Execute(
            RunConfig.Resolve(settings, $"run '{settings.Name}'"),
            runsRoot,
            mode,
            objective,
            stopAfterStep,
            cancel
        );

    /// <param name="objective">An objective to train with instead of the config's (tests, plug-ins).</param>
    public static RunOutcome Execute(
        ResolvedRun resolved,
        string runsRoot,
        ExistingRun mode,
        Objective? objective = null,
        long stopAfterStep = long.MaxValue,
        CancellationToken cancel = default
    )
    {
        var cfg = resolved.Settings;
        if (cfg.Train.Threads > 0)
            set_num_threads(cfg.Train.Threads);
        bool fresh = !Directory.Exists(Path.Combine(runsRoot, cfg.Name));
        using var run = OpenRunDirectory(cfg, runsRoot, mode);
        var task = resolved.Task;
        RunDatasets data;
        try
        {
            data = RunData.From(cfg);
            Protocols.Probe(cfg, task, data); // before any training: the final evaluation must be able to run
            if (cfg.Train.BatchSize > data.Train.Count)
                throw new FaceDistillException(
                    $"key 'train.batchSize' ({cfg.Train.BatchSize}) exceeds the {data.Train.Count} training images"
                );
        }
        catch (FaceDistillException) when (fresh)
        {
            // a run refused before its first step leaves nothing behind (a retry with the fix is not "exists")
            Directory.Delete(run.Path, recursive: true);
            throw;
        }
        // the terms' own parameters (e.g. a feature-KD projection) start from the seed too, not from leftover RNG state
        manual_seed(Seeds.Derive(cfg.Train.Seed, 0x7E4));
        var loaderOptions = DataLoaderOptions.ForTraining(cfg);
        var method = objective is null ? resolved.Method : null;
        using var teacher = method is { NeedsTeacher: true }
            ? RunTeacher.Create(method, cfg, data, loaderOptions)
            : null;
        var extraTeachers = method is { NeedsTeacher: true }
            ? RunTeacher.CreateExtra(method, cfg, data, loaderOptions)
            : [];
        using var disposeExtra = new Disposables(extraTeachers.Values);
        objective =
            objective is null
                ? DistillationMethods.CreateObjective(
                    method,
                    cfg.Distill,
                    new TermContext(teacher, data.Classes, cfg.Model.EmbeddingSize, task, extraTeachers),
                    cfg.Data.View
                )
            : objective.StudentView == cfg.Data.View ? objective
            : new Objective(objective.Terms) { StudentView = cfg.Data.View, TaskWeight = objective.TaskWeight };
        var loader = new DataLoader(
            data.Train,
            loaderOptions with
            {
                Views = [FaceView.Clean, .. objective.ExtraViews.Select(FaceViews.Parse)],
            }
        );
        var evaluation = Protocols.For(cfg, task, data);
        WriteSamples(run.Path, loader);
        new ModelShape(data.Classes, data.AgeMean).Write(run.Path);
        var path = ChooseConvolutionPath(cfg, run, data, mode);
        TorchRuntime.SetMkldnn(path.OneDnn);
        Log.Info(ConvolutionPath.Describe(path));
        var (result, stats) = Fit(
            cfg,
            run,
            data,
            new Trainer(cfg.Train, task, objective),
            loader,
            evaluation,
            mode,
            path.ChannelsLast,
            stopAfterStep,
            cancel
        );
        if (loader.BadImages.Count > 0)
            Log.Info($"skipped {loader.BadImages.Count} undecodable image(s), e.g. {loader.BadImages.Values.First()}");
        if (!result.Interrupted)
            RunReport.Write(run.Path, cfg.Name, cfg.Task, stats, result, data.Train.Count);
        return new RunOutcome(run, result, stats, data);
    }

    /// <summary>The convolution path of the run (<see cref="ConvolutionPath"/>): the one its checkpoint records when it
    /// resumes, else the probed (or cached) faster one for its model, input size and batch.</summary>
    private static ConvolutionPath.Choice ChooseConvolutionPath(
        RunSettings cfg,
        RunDirectory run,
        RunDatasets data,
        ExistingRun mode
    )
    {
        if (
            mode == ExistingRun.Resume
            && Checkpoint.Latest(run.CheckpointDir) is { } latest
            && Checkpoint.LoadState(latest) is { OneDnn: { } recorded } state
        )
            return new ConvolutionPath.Choice(
                recorded,
                null,
                null,
                $"as the run started, {latest}",
                state.ChannelsLast ?? false
            );
        var m = cfg.Model;
        var key =
            $"{m.Backbone}|width={m.Width}|embedding={m.EmbeddingSize}|size={cfg.Data.ImageSize}"
            + $"|batch={cfg.Train.BatchSize}";
        return ConvolutionPath.Choose(key, (oneDnn, channelsLast) => ProbeStep(cfg, data, oneDnn, channelsLast));
    }

    /// <summary>The time of one forward + backward pass of the run's backbone on a batch of its shape (the head, the
    /// loss and the optimizer step are a small share of a step: docs/benchmarks.md).</summary>
    private static double ProbeStep(RunSettings cfg, RunDatasets data, bool oneDnn, bool channelsLast)
    {
        TorchRuntime.SetMkldnn(oneDnn);
        using var model = ComputeDevice.OnDevice(ModelFactory.Create(cfg, data.Classes, data.AgeMean));
        if (channelsLast)
            model.Backbone.UseChannelsLast();
        model.train();
        int s = cfg.Data.ImageSize;
        using var x = ComputeDevice.OnDevice(randn(cfg.Train.BatchSize, 3, s, s));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (NoGcRegion.Enter())
        using (NewDisposeScope())
            model.Embed(x).square().mean().backward();
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>The first training batch per view, as the model sees it (augmented, occluded, degraded), for the HTML
    /// report: <c>samples.png</c>, one row per view, written once.</summary>
    private static void WriteSamples(string runDir, DataLoader loader)
    {
        var path = Path.Combine(runDir, RunHtmlReport.SamplesFile);
        if (File.Exists(path))
            return;
        var batch = loader.Epoch(0).First();
        var views = batch.Views.Keys.ToList();
        int n = Math.Min(batch.Count, 10),
            size = batch.Size,
            per = 3 * size * size;
        var cells = views
            .SelectMany(
                (v, row) =>
                    Enumerable
                        .Range(0, n)
                        .Select(k =>
                            (
                                (Func<RgbImage>)(
                                    () => ImageGrid.FromTensorData(batch.Views[v].AsSpan(k * per, per), size)
                                ),
                                row
                            )
                        )
            )
            .ToList();
        ImageGrid.Write(path, views, cells, perRow: 10, cell: Math.Max(48, Math.Min(size, 96)));
    }

    /// <summary>The run directory, refusing to resume a run that was started with another config.</summary>
    private static RunDirectory OpenRunDirectory(RunSettings cfg, string runsRoot, ExistingRun mode)
    {
        var run = RunDirectory.Open(Path.Combine(runsRoot, cfg.Name), mode);
        if (
            mode == ExistingRun.Resume
            && File.Exists(run.ConfigPath)
            && !RunConfig.SameAs(File.ReadAllText(run.ConfigPath), cfg)
        )
        {
            run.Dispose();
            throw FaceDistillException.ForFile(
                run.ConfigPath,
                "the run was started with a different config; resume without changing it, or start a new run"
            );
        }
        AtomicFile.WriteAllText(run.ConfigPath, ConfigLoader.ToJson(cfg));
        return run;
    }

    private static bool HasLoggedSteps(string metricsCsv) =>
        File.Exists(metricsCsv) && File.ReadLines(metricsCsv).Skip(1).Any();

    /// <summary>The training loop with a fresh model per attempt: after an intermittent internal libtorch error the run
    /// goes back to its last checkpoint (training is deterministic, so the result is that of an uninterrupted
    /// run).</summary>
    private static (TrainResult, ModelStats) Fit(
        RunSettings cfg,
        RunDirectory run,
        RunDatasets data,
        Trainer trainer,
        DataLoader loader,
        RunEvaluation evaluation,
        ExistingRun mode,
        bool channelsLast,
        long stopAfterStep,
        CancellationToken cancel
    )
    {
        ModelStats? stats = null;
        if (
            mode == ExistingRun.Resume
            && Checkpoint.Latest(run.CheckpointDir) is null
            && HasLoggedSteps(run.MetricsPath)
        )
            throw FaceDistillException.ForFile(
                run.Path,
                "cannot resume: the run has logged steps but no checkpoint is left; --force starts it over (the old "
                    + "run is kept aside)"
            );
        for (int attempt = 0; ; attempt++)
        {
            // the seed fixes the initial weights, and a checkpoint (if any) the trained state
            manual_seed(cfg.Train.Seed);
            using var model = ComputeDevice.OnDevice(ModelFactory.Create(cfg, data.Classes, data.AgeMean));
            stats ??= ModelStats.Measure(model.Backbone);
            if (cfg.Train.Init is { } init && Checkpoint.Latest(run.CheckpointDir) is null)
                FineTuning.InitFrom(init, model);
            if (channelsLast)
                model.Backbone.UseChannelsLast();
            try
            {
                bool resume = mode == ExistingRun.Resume || attempt > 0;
                return (
                    trainer.Fit(
                        model,
                        loader,
                        run.Path,
                        evaluation.Evaluate,
                        evaluation.Columns,
                        resume,
                        stopAfterStep,
                        cancel
                    ),
                    stats
                );
            }
            catch (System.Runtime.InteropServices.ExternalException e) when (attempt < MaxNativeRetries)
            {
                var from = Checkpoint.Latest(run.CheckpointDir) ?? "the start";
                Log.Warn(
                    $"libtorch raised an internal error ({e.Message.Split('\n')[0].Trim()}); "
                        + $"continuing from {from} (retry {attempt + 1} of {MaxNativeRetries})"
                );
            }
        }
    }
}
