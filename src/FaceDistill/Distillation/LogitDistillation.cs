using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Distillation.Teachers;
using static TorchSharp.torch;

namespace FaceDistill.Distillation;

/// <summary>A loss of teacher logits, student logits and labels (<see cref="HintonKd"/>, <see cref="DecoupledKd"/>,
/// <see cref="GroupedKd"/>).</summary>
public delegate Tensor LogitLoss(Tensor teacherLogits, Tensor studentLogits, Tensor labels);

/// <summary>
/// Logit distillation as an objective term, shared by Hinton KD, DKD and GKD: the student's margin logits against the
/// teacher's logits over the same classes, under one of their losses. The weight ramps linearly over
/// <c>rampEpochs</c> (GKD's paper: min(epoch/10, 1)); 0 = constant.
/// </summary>
public sealed class LogitDistillation : IObjectiveTerm
{
    private readonly OnlineTeacher _teacher;
    private readonly LogitLoss _loss;
    private readonly double _weight,
        _rampEpochs;

    public LogitDistillation(
        string name,
        OnlineTeacher teacher,
        LogitLoss loss,
        int studentClasses,
        double weight,
        double rampEpochs
    )
    {
        if (teacher.Classes != studentClasses)
            throw new FaceDistillException(
                $"teacher {teacher.Teacher.Name} has {teacher.Classes} classes, the student "
                    + $"{studentClasses}: logit distillation needs the same class set"
            );
        (Name, _teacher, _loss, _weight, _rampEpochs) = (name, teacher, loss, weight, rampEpochs);
    }

    public string Name { get; }
    public IReadOnlyList<string> Views => ["clean"];
    public IEnumerable<TorchSharp.Modules.Parameter> Parameters => [];

    public double Weight(StepContext ctx) =>
        _rampEpochs > 0 ? _weight * GroupedKlDecomposition.Ramp(ctx.FractionalEpoch, _rampEpochs) : _weight;

    public Tensor Compute(StudentOutputs student, Batch batch, StepContext ctx)
    {
        var t =
            _teacher.For(batch, ctx.Step).Logits
            ?? throw new FaceDistillException($"teacher {_teacher.Teacher.Name} produces no logits");
        return _loss(t, student.HeadOutput, student.Labels);
    }

    /// <summary>kd, dkd, gkd: the softmax temperature T.</summary>
    public static readonly NumberKey Temperature = new("temperature", 4.0);

    /// <summary>kd, dkd, gkd: the weight ramps linearly over this many epochs; 0 = constant.</summary>
    public static readonly NumberKey RampEpochs = new("rampEpochs", 0.0);

    /// <summary>kd, dkd, gkd: the scale s of the centroid logits s·cos(e, μ_c) given to an embedding-only teacher
    /// (unset: the student head's s).</summary>
    public static readonly NumberKey CentroidScale = new("centroidScale");

    /// <summary>The keys every logit method reads besides its own.</summary>
    public static IReadOnlyList<MethodKey> SharedKeys => [Temperature, RampEpochs, CentroidScale];

    /// <summary>The checks every logit method shares: ranges of the shared keys; one logit set (no MultiFace
    /// head).</summary>
    public static void ValidateShared(RunSettings c, ConfigChecks checks)
    {
        var d = c.Distill;
        checks.Positive(Temperature.Path, d.Get(Temperature));
        checks.NonNegative(RampEpochs.Path, d.Get(RampEpochs));
        if (d.Find(CentroidScale) is { } s)
            checks.Positive(CentroidScale.Path, s);
        if (c.Model.Head.Type == "multiface")
            checks.Fail(
                "distill.method",
                $"'{d.Method}' needs one logit set; model.head.type 'multiface' has one per group"
            );
    }

    /// <summary>DKD and GKD decompose class logits: the age task has none.</summary>
    public static void RequireClasses(RunSettings c, ConfigChecks checks)
    {
        if (c.Task == "age")
            checks.Fail(
                "distill.method",
                $"'{c.Distill.Method}' needs class logits; task 'age' has none "
                    + "(use 'kd' for regression KD, or 'feature')"
            );
    }
}
