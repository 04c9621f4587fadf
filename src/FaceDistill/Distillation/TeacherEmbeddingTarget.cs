using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Distillation.Teachers;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Distillation;

/// <summary>
/// What the embedding distillers (<see cref="FeatureDistillation"/>, <see cref="TripletDistillation"/>,
/// <see cref="LabelFreeDistillation"/>) share: the teacher's embedding of the batch as the target, and the student's
/// embedding projected to the teacher's size by a learned linear map P (no bias) when the sizes differ.
/// </summary>
public sealed class TeacherEmbeddingTarget
{
    private readonly OnlineTeacher _teacher;
    private readonly TorchSharp.Modules.Linear? _projection;

    public TeacherEmbeddingTarget(OnlineTeacher teacher, int studentDim)
    {
        _teacher = teacher;
        if (studentDim != teacher.Teacher.EmbeddingSize)
            _projection = ComputeDevice.OnDevice(nn.Linear(studentDim, teacher.Teacher.EmbeddingSize, hasBias: false));
    }

    /// <summary>The projection's parameters (none when the sizes match).</summary>
    public IEnumerable<TorchSharp.Modules.Parameter> Parameters => _projection?.parameters() ?? [];

    /// <summary><paramref name="loss"/>(P·student embedding, teacher embedding) for the batch.</summary>
    public Tensor Compute(StudentOutputs student, Batch batch, StepContext ctx, Func<Tensor, Tensor, Tensor> loss)
    {
        var t = _teacher.EmbeddingFor(batch, ctx.Step);
        if (_projection is null)
            return loss(student.Embedding, t);
        using var projected = _projection.call(student.Embedding);
        return loss(projected, t);
    }
}
