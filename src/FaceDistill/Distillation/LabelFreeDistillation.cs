using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Distillation.Teachers;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Distillation;

/// <summary>
/// Label-free embedding distillation over a face pool: any face image teaches. The student sees an augmented, often
/// degraded view (<c>data.view</c>, e.g. <c>mix:occluded:mask@0.3,occluded:vr@0.1,lowres:16@0.2</c>); the target is the
/// teacher's embedding of the clean view of the same pixel-aligned crop (cached once for the whole pool), centred. With
/// the student's embedding projected to the teacher's size by a learned linear map P when the sizes differ, s_i =
/// P·e_s,i, and t_i = e_t,i − μ_t, over a batch of b faces:
/// <code>
///   μ_t   = mean of the teacher's embeddings over the pool (with a cache), else over the batch
///   L_cos = mean_i (1 − cos(s_i, t_i))
///   L_SP  = (1/b²) · ‖ Ĝ_s − Ĝ_t ‖²_F,   G = A·Aᵀ of the batch's embeddings A, Ĝ = G with each row L2-normalised
///   L     = L_cos + γ · L_SP
/// </code>
/// L_SP is similarity-preserving KD (Tung &amp; Mori, "Similarity-Preserving Knowledge Distillation", ICCV 2019), here
/// on the embeddings: the student keeps which faces of the batch the teacher finds alike. Centring matters: a face
/// net's embeddings share a large common direction (faceres: mean cosine 0.37 between different people, ‖mean of the
/// unit embeddings‖ 0.60 over the pool), so 1 − cos to the raw targets is minimised to 0.40 by predicting that one
/// direction for every face, where the student stalls — it then verifies LFW at chance (54.6 %); on the centred
/// targets only what tells faces apart is left to learn. No labels are read; train it
/// with <c>model.head.type: none</c> (the term is the whole loss) on <c>data.source: pool</c>, or beside a margin loss
/// where identities exist. Config: <c>distill.method: labelfree</c>, key <c>relational</c> (γ, 1).
/// </summary>
public sealed class LabelFreeDistillation : IObjectiveTerm
{
    private readonly TeacherEmbeddingTarget _target;
    private readonly double _weight,
        _relational;

    private readonly Tensor? _poolMean;

    public LabelFreeDistillation(OnlineTeacher teacher, int studentDim, double weight, double relational)
    {
        (_weight, _relational) = (weight, relational);
        _target = new TeacherEmbeddingTarget(teacher, studentDim);
        if (teacher.CachedMeanEmbedding() is { } mean)
            _poolMean = tensor(mean, [1, mean.Length]).DetachFromDisposeScope();
    }

    /// <summary>t − μ_t: the pool's mean teacher embedding, or the batch's when the teacher is not cached.</summary>
    public static Tensor Centre(Tensor teacher, Tensor? mean = null)
    {
        var t = teacher.detach();
        return t - (mean ?? t.mean([0], keepdim: true));
    }

    public string Name => "labelfree";
    public IReadOnlyList<string> Views => ["clean"];
    public IEnumerable<TorchSharp.Modules.Parameter> Parameters => _target.Parameters;

    public double Weight(StepContext ctx) => _weight;

    /// <summary>The similarity-preserving term (1/b²)·‖Ĝ_s − Ĝ_t‖²_F of two batches of embeddings.</summary>
    public static Tensor SimilarityPreserving(Tensor student, Tensor teacher)
    {
        using var scope = NewDisposeScope();
        long b = student.shape[0];
        var gs = nn.functional.normalize(student.matmul(student.t()), dim: 1);
        var gt = nn.functional.normalize(teacher.detach().matmul(teacher.detach().t()), dim: 1);
        var d = gs - gt;
        return ((d * d).sum() / (b * b)).MoveToOuterDisposeScope();
    }

    /// <summary>L = L_cos + γ·L_SP (equations above).</summary>
    public static Tensor Loss(Tensor student, Tensor teacher, double relational)
    {
        using var scope = NewDisposeScope();
        var s = nn.functional.normalize(student, dim: 1);
        var t = nn.functional.normalize(teacher.detach(), dim: 1);
        var loss = (1 - (s * t).sum(1)).mean();
        if (relational > 0)
            loss = loss + SimilarityPreserving(student, teacher) * relational;
        return loss.MoveToOuterDisposeScope();
    }

    public Tensor Compute(StudentOutputs student, Batch batch, StepContext ctx) =>
        _target.Compute(student, batch, ctx, (s, t) => Loss(s, Centre(t, _poolMean), _relational));

    public static readonly DistillMethod Method = new()
    {
        Name = "labelfree",
        Paper = "label-free embedding distillation with similarity-preserving KD (Tung & Mori, ICCV 2019)",
        Teacher = TeacherOutput.Embedding,
        Keys = new Dictionary<string, object?> { ["relational"] = 1.0 },
        Validate = (c, checks) => checks.NonNegative("distill.relational", c.Distill.Number("relational")),
        Create = (d, ctx) =>
            new LabelFreeDistillation(
                ctx.RequireTeacher("labelfree"),
                ctx.EmbeddingSize,
                d.Weight,
                d.Number("relational")
            ),
    };
}
