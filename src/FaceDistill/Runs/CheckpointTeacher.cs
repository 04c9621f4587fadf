using FaceDistill.Data;
using FaceDistill.Distillation.Teachers;
using FaceDistill.Models;
using static TorchSharp.torch;

namespace FaceDistill.Runs;

/// <summary>A model trained by FaceDistill, loaded from its run directory (config.json + latest checkpoint), as
/// teacher: its embedding, and its margin-free head outputs as logits over the classes it was trained on (for an age
/// run, one column: its predicted age, what regression KD distils).</summary>
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
        var run = TrainedRun.Load(runDir);
        return new CheckpointTeacher($"run:{runDir}", run.Model, run.Task == FaceTask.Age ? 1 : run.Classes);
    }

    public TeacherOutputs Run(Tensor images)
    {
        using var _ = no_grad();
        using var x = TeacherInput.Fit(images, InputSize);
        var embedding = _model.Backbone.call(x);
        var logits = _model.Head.call(embedding, null);
        if (logits.dim() == 1)
            logits = logits.unsqueeze(1);
        return new TeacherOutputs(embedding, logits);
    }

    public void Dispose() => _model.Dispose();
}
