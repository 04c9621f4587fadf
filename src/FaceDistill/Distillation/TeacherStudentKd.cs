using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Distillation.Teachers;
using static TorchSharp.torch;

namespace FaceDistill.Distillation;

/// <summary>
/// Teacher–student training against occlusion (Georgescu, Duţă, Ionescu — "Teacher–student training and triplet loss
/// to reduce the effect of drastic face occlusion", Machine Vision and Applications 2022). The teacher sees the full
/// face (the clean view), the student the occluded one (<c>data.view</c>, e.g. <c>occluded:vr</c>), pixel-aligned:
/// <code>
///   classification:  L = (1 − λ) · CE(ŷ_s, y) + λ · T² · KL(softmax(z_t / T) ‖ softmax(z_s / T))     (Hinton KD)
///   age regression:  L = (1 − λ) · L1(ŷ_s, y) + λ · mean_i (ŷ_s,i − ŷ_t,i)²                     (L2 to the teacher)
/// </code>
/// With <c>distill.lambda</c> unset the term is added to the task loss instead, <c>L = L_task + w · L_kd</c> (the form
/// the recognition experiments use). The λ mixing applies to every teacher method
/// (<see cref="DistillationMethods.CreateObjective"/>); triplet-loss KD is <see cref="TripletDistillation"/>, the
/// combination of students <c>Evaluation.EmbeddingCombination</c>.
/// Config: <c>distill.method: kd</c>, keys <c>temperature, rampEpochs, centroidScale</c> (and the teacher keys).
/// </summary>
public static class TeacherStudentKd
{
    /// <summary>L_kd of the age task: mean squared difference of the student's and the teacher's predicted
    /// ages.</summary>
    public static Tensor RegressionLoss(Tensor student, Tensor teacher)
    {
        using var d = student.reshape(-1) - teacher.detach().reshape(-1);
        return (d * d).mean();
    }

    public static readonly DistillMethod Method = new()
    {
        Name = "kd",
        Paper = "Hinton et al. 2015; Georgescu et al., teacher-student training against occlusion, 2022",
        Teacher = TeacherOutput.Logits,
        Keys = LogitDistillation.SharedKeys,
        Validate = (c, checks) =>
        {
            if (c.Task == "age")
            {
                checks.Positive(LogitDistillation.Temperature.Path, c.Distill.Get(LogitDistillation.Temperature));
                return;
            }
            LogitDistillation.ValidateShared(c, checks);
        },
        Create = (d, ctx) =>
        {
            var teacher = ctx.RequireTeacher("kd");
            if (ctx.Task == FaceTask.Age)
                return new AgeTerm(teacher, d.Weight);
            double t = d.Get(LogitDistillation.Temperature);
            return new LogitDistillation(
                "kd",
                teacher,
                (zt, zs, _) => HintonKd.Loss(zt, zs, t),
                ctx.Classes,
                d.Weight,
                d.Get(LogitDistillation.RampEpochs)
            );
        },
    };

    /// <summary>The age form: the student's age pulled to the teacher's (column 0 of its outputs: a FaceDistill age
    /// run, <c>zoo:agegender</c>).</summary>
    private sealed class AgeTerm(OnlineTeacher teacher, double weight) : IObjectiveTerm
    {
        public string Name => "kd";
        public IReadOnlyList<string> Views => ["clean"];
        public IEnumerable<TorchSharp.Modules.Parameter> Parameters => [];

        public double Weight(StepContext ctx) => weight;

        public Tensor Compute(StudentOutputs student, Batch batch, StepContext ctx)
        {
            var t =
                teacher.For(batch, ctx.Step).Logits
                ?? throw new FaceDistillException($"teacher {teacher.Teacher.Name} produces no age output");
            using var age = t.dim() == 1 ? t.alias() : t[.., 0];
            return RegressionLoss(student.HeadOutput, age);
        }
    }
}
