using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Models;
using FaceDistill.Training;
using static TorchSharp.torch;

namespace FaceDistill.Distillation.Teachers;

/// <summary>A model trained by FaceDistill, loaded from its run directory (config.json + latest checkpoint), as teacher:
/// its embedding, and its margin-free head outputs as logits over the classes it was trained on.</summary>
public sealed class CheckpointTeacher : ITeacher
{
    private readonly FaceModel _model;

    public string Name { get; }
    public int InputSize => _model.Backbone.InputSize;
    public int EmbeddingSize => _model.Backbone.EmbeddingSize;
    public int Classes { get; }

    private CheckpointTeacher(string name, FaceModel model, int classes)
    {
        Name = name;
        _model = model;
        Classes = classes;
        _model.eval();
    }

    public static CheckpointTeacher Load(string runDir)
    {
        var configPath = Path.Combine(runDir, "config.json");
        if (!File.Exists(configPath)) throw FaceDistillException.ForFile(runDir, "not a FaceDistill run directory (no config.json) for the teacher");
        var cfg = ConfigLoader.Load(configPath);
        var task = FaceTaskExtensions.Parse(cfg.Task);
        int classes = task == FaceTask.Age ? 1 : ExperimentData.From(cfg).Classes;
        var model = ModelFactory.Create(cfg, classes);
        var checkpoint = Checkpoint.Latest(Path.Combine(runDir, "checkpoints")) ?? throw FaceDistillException.ForFile(runDir, "the teacher run has no checkpoint");
        Checkpoint.LoadWeights(checkpoint, model);
        return new CheckpointTeacher($"run:{runDir}", model, task == FaceTask.Age ? 0 : classes);
    }

    public TeacherOutputs Run(Tensor images)
    {
        using var _ = no_grad();
        using var x = TeacherInput.Fit(images, InputSize);
        var embedding = _model.Backbone.call(x);
        var logits = Classes > 0 ? _model.Head.call(embedding, null) : null;
        return new TeacherOutputs(embedding, logits);
    }

    public void Dispose() => _model.Dispose();
}
