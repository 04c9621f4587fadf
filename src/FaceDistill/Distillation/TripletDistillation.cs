using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Distillation.Teachers;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Distillation;

/// <summary>How the negative of each anchor is chosen inside the batch.</summary>
public enum TripletMining
{
    SemiHard,
    Hardest,
    Random,
}

/// <summary>Triplet-loss KD (Georgescu et al. 2022): the anchor is the student's embedding of the occluded face, the
/// positive the teacher's embedding of the full face of the same sample (hence of the same class), the negative a
/// teacher embedding of a sample of a different class in the batch. On unit-length embeddings (the student's projected
/// to the teacher's size by a learned linear map P when they differ):
/// <code>
///   a_i = P·s_i / ‖P·s_i‖,  p_i = t_i / ‖t_i‖,  n_i = t_j / ‖t_j‖ with class(j) ≠ class(i)
///   L = mean_i max(0, ‖a_i − p_i‖² − ‖a_i − n_i‖² + α)
/// </code>
/// Mining: semi-hard (FaceNet; TensorFlow's <c>triplet_semihard_loss</c> rule) picks the closest negative that is
/// farther than the positive, ‖a−n‖² &gt; ‖a−p‖², and the farthest negative when there is none; hardest picks the
/// closest negative; random any negative. Anchors without a negative in the batch are left out. Added to the task loss.
/// Classes: the task's label (identity, expression, gender), for age the bin ⌊age / ageBin⌋. Config: <c>distill.method:
/// triplet</c>, keys <c>margin, mining, ageBin</c>.</summary>
public sealed class TripletDistillation : IObjectiveTerm
{
    private readonly TeacherEmbeddingTarget _target;
    private readonly FaceTask _task;
    private readonly double _weight,
        _margin,
        _ageBin;
    private readonly TripletMining _mining;

    public TripletDistillation(
        OnlineTeacher teacher,
        int studentDim,
        FaceTask task,
        double weight,
        double margin,
        TripletMining mining,
        double ageBin
    )
    {
        (_task, _weight, _margin, _mining, _ageBin) = (task, weight, margin, mining, ageBin);
        _target = new TeacherEmbeddingTarget(teacher, studentDim);
    }

    public static TripletMining ParseMining(string name) =>
        name switch
        {
            "semihard" => TripletMining.SemiHard,
            "hardest" => TripletMining.Hardest,
            "random" => TripletMining.Random,
            _ => throw new FaceDistillException($"unknown triplet mining '{name}' (semihard, hardest, random)"),
        };

    public string Name => "triplet";
    public IReadOnlyList<string> Views => ["clean"];
    public IEnumerable<TorchSharp.Modules.Parameter> Parameters => _target.Parameters;

    public double Weight(StepContext ctx) => _weight;

    /// <summary>The loss for anchors <c>[N, D]</c>, positives <c>[N, D]</c> (also the pool of negatives) and per-sample
    /// classes; inputs need not be normalised.</summary>
    public static Tensor Loss(Tensor anchors, Tensor positives, long[] classes, double margin, TripletMining mining)
    {
        using var scope = NewDisposeScope();
        var a = nn.functional.normalize(anchors, dim: 1);
        var t = nn.functional.normalize(positives.detach(), dim: 1);
        var dap = (a - t).pow(2).sum(1);
        // squared distances from every anchor to every teacher embedding: ‖a‖² + ‖t‖² − 2·a·t = 2 − 2·a·t on unit
        // vectors
        var dan = (2 - 2 * a.matmul(t.t())).clamp_min(0);
        var cls = tensor(classes);
        var different = cls.unsqueeze(1).ne(cls.unsqueeze(0));
        var valid = different.any(1);
        if (!valid.any().item<bool>())
            return zeros(1, requires_grad: false).sum().MoveToOuterDisposeScope();
        using var inf = tensor(float.PositiveInfinity);
        using var ninf = tensor(float.NegativeInfinity);
        Tensor chosen;
        switch (mining)
        {
            case TripletMining.Hardest:
                chosen = where(different, dan, inf).min(1).values;
                break;
            case TripletMining.Random:
            {
                var pick = where(different, rand(dan.shape), full(dan.shape, -1f)).argmax(1);
                chosen = dan.gather(1, pick.unsqueeze(1)).squeeze(1);
                break;
            }
            default:
            {
                var farther = different.logical_and(dan.gt(dap.detach().unsqueeze(1)));
                var semi = where(farther, dan, inf).min(1).values;
                var easiest = where(different, dan, ninf).max(1).values;
                chosen = where(farther.any(1), semi, easiest);
                break;
            }
        }
        var hinge = (dap - chosen + margin).clamp_min(0);
        return hinge.masked_select(valid).mean().MoveToOuterDisposeScope();
    }

    public long ClassOf(FaceLabels l) =>
        _task == FaceTask.Age ? (long)Math.Floor(l.Age / _ageBin) : _task.ClassLabel(l);

    public Tensor Compute(StudentOutputs student, Batch batch, StepContext ctx)
    {
        var classes = batch.Labels.Select(ClassOf).ToArray();
        return _target.Compute(student, batch, ctx, (s, t) => Loss(s, t, classes, _margin, _mining));
    }

    /// <summary>The margin α of max(0, ‖a−p‖² − ‖a−n‖² + α), on unit-length embeddings.</summary>
    public static readonly NumberKey Margin = new("margin", 0.2);

    /// <summary>The negative of each anchor: semihard, hardest, or random.</summary>
    public static readonly TextKey Mining = new("mining", "semihard");

    /// <summary>On the age task the classes are age bins of this many years.</summary>
    public static readonly NumberKey AgeBin = new("ageBin", 10.0);

    public static readonly DistillMethod Method = new()
    {
        Name = "triplet",
        Paper = "Georgescu et al., triplet-loss KD against occlusion, 2022",
        Teacher = TeacherOutput.Embedding,
        Keys = [Margin, Mining, AgeBin],
        Validate = (c, checks) =>
        {
            checks.Positive(Margin.Path, c.Distill.Get(Margin));
            checks.OneOf(Mining.Path, c.Distill.Get(Mining), ["semihard", "hardest", "random"]);
            checks.Positive(AgeBin.Path, c.Distill.Get(AgeBin));
        },
        Create = (d, ctx) =>
            new TripletDistillation(
                ctx.RequireTeacher("triplet"),
                ctx.EmbeddingSize,
                ctx.Task,
                d.Weight,
                d.Get(Margin),
                ParseMining(d.Get(Mining)),
                d.Get(AgeBin)
            ),
    };
}
