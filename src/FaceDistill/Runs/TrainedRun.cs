using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Models;
using FaceDistill.Training;

namespace FaceDistill.Runs;

/// <summary>A finished (or stopped) run loaded back: its resolved config, its data, and its model with the weights of
/// a checkpoint (the latest by default). Used by <c>eval</c>, <c>compare</c> and checkpoint teachers.</summary>
public sealed class TrainedRun : IDisposable
{
    public required string Directory { get; init; }
    public required ExperimentConfig Config { get; init; }
    public required ExperimentData Data { get; init; }
    public required FaceModel Model { get; init; }
    public required string CheckpointPath { get; init; }
    public FaceTask Task => FaceTaskExtensions.Parse(Config.Task);

    public static TrainedRun Load(string runDir, IEnumerable<string>? overrides = null, string? checkpoint = null)
    {
        var configPath = Path.Combine(runDir, "config.json");
        if (!File.Exists(configPath))
            throw FaceDistillException.ForFile(runDir, "not a FaceDistill run directory (no config.json)");
        // the run's own teacher is not needed to use its model — except that a face-pool run's config is only whole
        // with its embedding distiller (a pool has no labels); its teacher is named, never run, here
        var stored = ConfigLoader.Load(configPath, overrides);
        var cfg = RunConfig.Resolve(
            stored.Data.Source == DataSources.Pool ? stored : stored with { Distill = new DistillConfig() },
            configPath
        );
        var data = RunData.From(cfg);
        var model = ModelFactory.Create(cfg, data.Classes, data.AgeMean);
        var ckpt =
            checkpoint
            ?? Checkpoint.Latest(Path.Combine(runDir, "checkpoints"))
            ?? throw FaceDistillException.ForFile(runDir, "the run has no checkpoint");
        Checkpoint.LoadWeights(ckpt, model);
        ComputeDevice.OnDevice(model);
        return new TrainedRun
        {
            Directory = runDir,
            Config = cfg,
            Data = data,
            Model = model,
            CheckpointPath = ckpt,
        };
    }

    public void Dispose() => Model.Dispose();
}
