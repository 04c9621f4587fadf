using System.Diagnostics;
using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Distillation;
using FaceDistill.Evaluation;
using FaceDistill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Training;

public sealed record TrainResult(
    long Steps,
    double FinalLoss,
    EvalReport? FinalEval,
    bool Interrupted,
    string? LastCheckpoint,
    TimeSpan Elapsed
);

/// <summary>The training loop: per step, LR from the schedule, loss from the <see cref="Objective"/>, backward,
/// global-norm gradient clipping, optimizer step; a progress bar with loss, LR, images/s and ETA; metrics.csv;
/// checkpoints every N steps and at the end (atomically); evaluation every few epochs. Deterministic on CPU: libtorch's
/// RNG is reseeded from (seed, step) before every step and the data order is a function of (seed, epoch), so resuming
/// from a checkpoint ends with the same weights as an uninterrupted run. A NaN/Inf loss stops the run before the
/// optimizer step, keeping the last good checkpoint.</summary>
public sealed class Trainer(TrainConfig config, FaceTask task, Objective objective)
{
    public int LogEvery { get; init; } = 10;

    public static Tensor LabelTensor(FaceTask task, Batch b) =>
        task == FaceTask.Age
            ? tensor(b.Labels.Select(l => l.Age).ToArray())
            : tensor(b.Labels.Select(l => (long)task.ClassLabel(l)).ToArray());

    /// <summary>The checkpoint folder and the metrics log inside a run directory.</summary>
    public const string CheckpointFolder = "checkpoints",
        MetricsFile = "metrics.csv";

    public TrainResult Fit(
        FaceModel model,
        DataLoader train,
        string runDir,
        Func<FaceModel, EvalReport>? evaluate,
        IReadOnlyList<string> evalColumns,
        bool resume,
        long stopAfterStep = long.MaxValue,
        CancellationToken cancel = default
    )
    {
        if (config.Threads > 0)
            set_num_threads(config.Threads);
        string checkpointDir = Path.Combine(runDir, CheckpointFolder);
        var clock = Stopwatch.StartNew();
        var termParameters = objective.Terms.SelectMany(t => t.Parameters).ToList();
        var parameters = model.parameters().Concat(termParameters).ToList();
        // the backbone's parameters, then the head's and the terms': the order of `parameters` (FaceModel registers
        // the backbone first), so a single-group optimizer and its checkpoints are as before
        using var optimizer = OptimizerFactory.Create(
            config.Optimizer,
            model.Backbone.parameters(),
            model.Head.parameters().Concat(termParameters)
        );
        int spe = train.BatchesPerEpoch;
        long total = (long)spe * config.Epochs;
        var schedule = LrSchedule.From(config.Schedule, config.Optimizer.Lr, spe, config.Epochs);
        string configHash = Convert.ToHexString(
            System.Security.Cryptography.SHA256.HashData(
                System.Text.Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(config))
            )
        )[..12];

        long step = 0;
        double priorSeconds = 0; // time of the steps made before a resume
        TimeSpan Elapsed() => clock.Elapsed + TimeSpan.FromSeconds(priorSeconds);
        string? lastCheckpoint = null;
        long savedStep = -1;
        if (resume && Checkpoint.RemoveUnfinished(checkpointDir) is > 0 and var removed)
            Log.Info($"removed {removed} half-written checkpoint folder(s) of an interrupted run");
        if (resume && Checkpoint.Latest(checkpointDir) is { } latest)
        {
            Checkpoint.LoadWeights(latest, model, optimizer);
            Checkpoint.LoadTerms(latest, termParameters);
            var state = Checkpoint.LoadState(latest);
            if (config.Threads == 0 && state.Threads > 0 && state.Threads != get_num_threads())
            {
                Log.Info(
                    $"resuming with the run's {state.Threads} libtorch threads (results are exact only at one thread "
                        + $"count)"
                );
                set_num_threads(state.Threads);
            }
            step = savedStep = state.Step;
            priorSeconds = state.TrainSeconds;
            lastCheckpoint = latest;
            Log.Info($"resuming from {latest} (step {step} of {total})");
        }
        var log = new MetricsLog(Path.Combine(runDir, MetricsFile), evalColumns, resume ? step : -1);
        double resumedLoss = lastCheckpoint is null
            ? double.NaN
            : Checkpoint.LoadState(lastCheckpoint).LastLoss ?? double.NaN;
        if (step >= total && lastCheckpoint is not null)
            Log.Info($"the run had finished its {total} steps: evaluating it and writing its report");
        EvalReport? lastEval = null;
        double lastLoss = resumedLoss,
            ema = double.NaN,
            ips = 0;
        var parts = new Dictionary<string, double>();
        model.train();

        string Save(int epoch)
        {
            lastCheckpoint = Checkpoint.Save(
                checkpointDir,
                model,
                optimizer,
                new CheckpointState(
                    step,
                    epoch,
                    double.IsFinite(lastLoss) ? lastLoss : null,
                    configHash,
                    DateTime.UtcNow,
                    Elapsed().TotalSeconds,
                    get_num_threads(),
                    TorchRuntime.MkldnnEnabled,
                    model.Backbone.ChannelsLast
                ),
                config.KeepCheckpoints,
                termParameters
            );
            savedStep = step;
            return lastCheckpoint;
        }

        // a fresh run is sealed at step 0 before its first step: a run killed (even by kill -9) before its first
        // periodic checkpoint resumes from there, and "logged steps but no checkpoint" can only mean a deleted one
        if (lastCheckpoint is null)
            Save(0);
        using (var bar = Progress.Start("train", total))
        {
            bar.Update(step);
            var window = Stopwatch.StartNew();
            int windowImages = 0;
            for (int epoch = (int)(step / spe); epoch < config.Epochs && step < total; epoch++)
            {
                foreach (var batch in train.Epoch(epoch, (int)(step % spe), cancel))
                {
                    if (cancel.IsCancellationRequested || step >= stopAfterStep)
                    {
                        Save(epoch);
                        return new TrainResult(step, lastLoss, lastEval, true, lastCheckpoint, Elapsed());
                    }
                    double lr = schedule.At(step);
                    // no collection during the step: no finalizer frees a Scalar libtorch is reading (NoGcRegion)
                    double value;
                    using (NoGcRegion.Enter())
                        value = TrainStep(
                            model,
                            optimizer,
                            parameters,
                            batch,
                            new StepContext(step, epoch, spe),
                            lr,
                            parts,
                            lastCheckpoint
                        );
                    lastLoss = value;
                    ema = double.IsNaN(ema) ? value : 0.95 * ema + 0.05 * value;
                    step++;
                    windowImages += batch.Count;
                    if (window.Elapsed.TotalSeconds >= 1 || step == total)
                    {
                        ips = windowImages / window.Elapsed.TotalSeconds;
                        window.Restart();
                        windowImages = 0;
                    }
                    if (step % LogEvery == 0 || step == total)
                        log.LogStep(step, epoch + 1, lastLoss, lr, ips);
                    bar.Update(step, $"epoch {epoch + 1}/{config.Epochs} loss {ema:F3} lr {lr:G3} {ips:F0} img/s");
                    if (step % config.CheckpointEvery == 0)
                        Save(epoch);
                }
                bool last = epoch + 1 == config.Epochs;
                if (evaluate is not null && ((epoch + 1) % config.EvalEvery == 0 || last))
                {
                    lastEval = evaluate(model);
                    model.train();
                    log.LogEval(step, epoch + 1, lastEval.Metrics);
                }
            }
        }
        if (savedStep != step)
            Save(config.Epochs - 1);
        if (lastEval is null && evaluate is not null)
        {
            lastEval = evaluate(model);
            log.LogEval(step, config.Epochs, lastEval.Metrics);
        }
        return new TrainResult(step, lastLoss, lastEval, false, lastCheckpoint, Elapsed());
    }

    /// <summary>One optimisation step: libtorch's RNG reseeded from (seed, step), the LR set, the objective's loss
    /// (its parts into <paramref name="parts"/>), a non-finite loss stopped before the update, backward, clipping,
    /// optimizer step. Returns the loss.</summary>
    private double TrainStep(
        FaceModel model,
        optim.Optimizer optimizer,
        List<TorchSharp.Modules.Parameter> parameters,
        Batch batch,
        StepContext ctx,
        double lr,
        Dictionary<string, double> parts,
        string? lastCheckpoint
    )
    {
        manual_seed(Seeds.Derive(config.Seed, ctx.Step, 0x7A1));
        OptimizerFactory.SetLr(
            optimizer,
            lr,
            OptimizerFactory.BackboneLr(config.Optimizer, lr, ctx.Step, ctx.StepsPerEpoch)
        );
        double value;
        using (var scope = NewDisposeScope())
        {
            var images = batch.Tensor(objective.StudentView);
            var labels = LabelTensor(task, batch);
            parts.Clear();
            var loss = objective.Loss(model, images, labels, batch, ctx, parts);
            value = loss.item<float>();
            if (!double.IsFinite(value))
                throw new TrainingDivergedException(
                    $"loss became {(double.IsNaN(value) ? "NaN" : "infinite")} at step {ctx.Step + 1} (epoch "
                        + $"{ctx.Epoch + 1}; parts: "
                        + $"{string.Join(", ", parts.Select(p => $"{p.Key}={p.Value:G4}"))}); "
                        + $"training stopped, the last good checkpoint is "
                        + $"{lastCheckpoint ?? "none (no checkpoint was written yet)"}; lower "
                        + $"train.optimizer.lr or set train.clipGradNorm"
                );
            optimizer.zero_grad();
            loss.backward();
            if (config.ClipGradNorm > 0)
                nn.utils.clip_grad_norm_(parameters, config.ClipGradNorm);
        }
        // outside the dispose scope: the optimizer creates its state (momentum, moments) lazily on the first step,
        // and a scope would free it at its end
        optimizer.step();
        return value;
    }
}
