using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Models;
using FaceDistill.Training;

namespace FaceDistill.Runs;

/// <summary>A finished (or stopped) run loaded back: its resolved config, its data, and its model with the weights of
/// a checkpoint (the latest by default). Used by <c>eval</c>, <c>compare</c>, <c>serve</c>, <c>export</c> and
/// checkpoint teachers. The data is read only when asked for: a run with its <see cref="ModelShape"/> builds its model
/// without it, so a run directory serves where its training data is not.</summary>
public sealed class TrainedRun : IDisposable
{
    public required string Directory { get; init; }
    public required RunSettings Config { get; init; }
    public required Lazy<RunDatasets> LazyData { get; init; }
    public RunDatasets Data => LazyData.Value;

    /// <summary>The classes of the model's head (from <see cref="ModelShape"/>; the data only for older
    /// runs).</summary>
    public required int Classes { get; init; }
    public required FaceModel Model { get; init; }
    public required string CheckpointPath { get; init; }
    public FaceTask Task => FaceTaskExtensions.Parse(Config.Task);

    public static TrainedRun Load(string runDir, IEnumerable<string>? overrides = null, string? checkpoint = null)
    {
        var configPath = Path.Combine(runDir, "config.json");
        if (!File.Exists(configPath))
            throw FaceDistillException.ForFile(runDir, "not a FaceDistill run directory (no config.json)");
        // the run's own teacher is not needed to use its model — except that a face-pool run's config is only whole
        // with its embedding distiller (a pool has no labels); its teacher is named, never run, here. The unlabelled
        // faces a run added to its training set (data.unlabelled, which needs the teacher) go with the teacher
        var stored = ConfigLoader.Load(configPath, overrides);
        var shape = ModelShape.Read(runDir);
        // with the model's shape known the data's folders need not exist here (they are checked when read)
        var cfg = RunConfig
            .Resolve(
                stored.Data.Source == DataSources.Pool
                    ? stored
                    : stored with
                    {
                        Distill = new DistillConfig(),
                        Data = stored.Data with { Unlabelled = null, UnlabelledGrayscale = false },
                    },
                configPath,
                shape is null ? null : _ => true
            )
            .Settings;
        var data = new Lazy<RunDatasets>(() => RunData.From(cfg));
        shape ??= new ModelShape(data.Value.Classes, data.Value.AgeMean);
        var model = ModelFactory.Create(cfg, shape.Classes, shape.AgeMean);
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
            LazyData = data,
            Classes = shape.Classes,
            Model = model,
            CheckpointPath = ckpt,
        };
    }

    public void Dispose() => Model.Dispose();
}
