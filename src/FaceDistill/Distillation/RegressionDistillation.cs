using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Distillation.Teachers;
using static TorchSharp.torch;

namespace FaceDistill.Distillation;

/// <summary>
/// Teacher–student KD for a regression task (Georgescu et al. 2022, age estimation): the student, seeing the occluded
/// face, is pulled to the teacher's prediction on the full face, on top of its own loss to the label:
/// <code>
///   L = L_task(ŷ_s, y) + w · L_kd,   L_kd = mean_i (ŷ_s,i − ŷ_t,i)²
/// </code>
/// The teacher's age is column 0 of its outputs (a FaceDistill age run; <c>zoo:agegender</c>).
/// </summary>
public sealed class RegressionDistillation(OnlineTeacher teacher, double weight = 1) : IObjectiveTerm
{
    public string Name => "kd";
    public IReadOnlyList<string> Views => ["clean"];
    public IEnumerable<TorchSharp.Modules.Parameter> Parameters => [];
    public double Weight(StepContext ctx) => weight;

    public static Tensor Loss(Tensor student, Tensor teacher)
    {
        using var d = student.reshape(-1) - teacher.detach().reshape(-1);
        return (d * d).mean();
    }

    public Tensor Compute(StudentOutputs student, Batch batch, StepContext ctx)
    {
        var t = teacher.For(batch, ctx.Step).Logits ?? throw new FaceDistillException($"teacher {teacher.Teacher.Name} produces no age output");
        using var age = t.dim() == 1 ? t.alias() : t[.., 0];
        return Loss(student.HeadOutput, age);
    }
}
