using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Distillation.Teachers;
using static TorchSharp.torch;

namespace FaceDistill.Distillation;

/// <summary>Which logit distiller: Hinton KD, DKD or GKD (all through <see cref="GroupedKnowledgeDistillation"/>).</summary>
public enum LogitMethod { Kd, Dkd, Gkd }

/// <summary>
/// Logit distillation as an objective term: the student's margin logits against the teacher's logits over the same
/// classes, with <see cref="GroupedKnowledgeDistillation"/>'s losses (equations there). The weight ramps linearly over
/// <c>rampEpochs</c> (GKD: min(epoch/10, 1)); 0 = constant.
/// </summary>
public sealed class LogitDistillation : IObjectiveTerm
{
    private readonly OnlineTeacher _teacher;
    private readonly LogitMethod _method;
    private readonly double _weight, _temperature, _alpha, _beta, _threshold, _rampEpochs;
    private readonly int _topK;

    public LogitDistillation(OnlineTeacher teacher, LogitMethod method, int studentClasses, double weight = 1, double temperature = 4,
        double alpha = 1, double beta = 4, double threshold = 0.93, int topK = 0, double rampEpochs = 10)
    {
        if (teacher.Classes != studentClasses)
            throw new FaceDistillException($"teacher {teacher.Teacher.Name} has {teacher.Classes} classes, the student {studentClasses}: logit distillation needs the same class set");
        (_teacher, _method, _weight, _temperature, _alpha, _beta, _threshold, _topK, _rampEpochs) =
            (teacher, method, weight, temperature, alpha, beta, threshold, topK, rampEpochs);
    }

    public string Name => _method.ToString().ToLowerInvariant();
    public IReadOnlyList<string> Views => ["clean"];
    public IEnumerable<TorchSharp.Modules.Parameter> Parameters => [];

    public double Weight(StepContext ctx) => _rampEpochs > 0 ? _weight * GroupedKnowledgeDistillation.Ramp(ctx.FractionalEpoch, _rampEpochs) : _weight;

    public Tensor Compute(StudentOutputs student, Batch batch, StepContext ctx)
    {
        var t = _teacher.For(batch, ctx.Step).Logits ?? throw new FaceDistillException($"teacher {_teacher.Teacher.Name} produces no logits");
        var s = student.HeadOutput;
        return _method switch
        {
            LogitMethod.Kd => GroupedKnowledgeDistillation.HintonKd(t, s, _temperature),
            LogitMethod.Dkd => GroupedKnowledgeDistillation.DecoupledKd(t, s, student.Labels, _temperature, _alpha, _beta),
            _ => GroupedKnowledgeDistillation.Loss(t, s, student.Labels, _temperature, _alpha, _beta, 0,
                _topK > 0 ? PrimaryGroupRule.TopK : PrimaryGroupRule.CumulativeProbability, _threshold, _topK),
        };
    }
}
