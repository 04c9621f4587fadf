using System.Text.Json;
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
/// on the embeddings: the student keeps which faces of the batch the teacher finds alike. The targets are centred
/// because a face net's embeddings share a large common direction: 1 − cos to raw targets is lowered by predicting
/// that one direction for every face, while on centred targets only what tells faces apart is left to learn
/// (docs/results/pool-distillation.md). No labels are read; train it
/// with <c>model.head.type: none</c> (the term is the whole loss) on <c>data.source: pool</c>, or beside a margin loss
/// where identities exist (<c>data.identities</c>: the pool folders with one subfolder per person, <see
/// cref="Data.PoolIdentities"/>; a margin head such as <c>arcface</c>): then
/// <c>L_total = L_margin(faces with an identity) + w·L</c>, the margin loss averaged over the batch's labelled faces
/// (<see cref="Objective.SoftTargets"/>). Config: <c>distill.method: labelfree</c>, key <c>relational</c> (γ, 1).
/// <para>With an anchor (<c>distill.anchor</c>: a teacher spec whose embedding size is the student's, typically the
/// pretrained student's own start, e.g. <c>zoo:mobileface</c>) there is no learned P: the teacher's embeddings are
/// mapped into the anchor's space in closed form (<see cref="EmbeddingAlignment"/>, ridge ρ = <c>distill.ridge</c>,
/// fitted once on both nets' cached embeddings of the clean pool), and the student is distilled in that space:</para>
/// <code>
///   s_i = e_s,i/‖e_s,i‖ − μ_a,   τ_i = τ(e_t,i) = (e_t,i/‖e_t,i‖ − μ_t)·W,   a_i = e_a,i/‖e_a,i‖ − μ_a
///   t_i = (1 − α)·τ_i/‖τ_i‖ + α·a_i/‖a_i‖                     L = L_cos + γ·L_SP as above
/// </code>
/// <para>with e_a,i the anchor's own (cached) embedding of the clean face and α = <c>distill.anchorWeight</c>: two
/// teachers, the strong one mapped into the anchor's space and the anchor itself (α = 1: occlusion self-distillation
/// in the anchor's centred space; α = 0: the mapped teacher alone).</para>
/// <para>A pretrained student then starts near its target (cosine ≈ √R²) instead of behind a random projection, and
/// is pulled towards what the stronger teacher knows rather than only towards mask invariance in its own
/// space.</para>
/// </summary>
public sealed class LabelFreeDistillation : IObjectiveTerm
{
    private readonly OnlineTeacher _teacher;
    private readonly TeacherEmbeddingTarget? _target;
    private readonly EmbeddingAlignment? _alignment;
    private readonly OnlineTeacher? _anchor;
    private readonly double _anchorWeight;
    private readonly double _weight,
        _relational;

    private readonly Tensor? _poolMean;

    public LabelFreeDistillation(OnlineTeacher teacher, int studentDim, double weight, double relational)
    {
        (_teacher, _weight, _relational) = (teacher, weight, relational);
        _target = new TeacherEmbeddingTarget(teacher, studentDim);
        if (teacher.CachedMeanEmbedding() is { } mean)
            _poolMean = tensor(mean, [1, mean.Length]).DetachFromDisposeScope();
    }

    /// <summary>The anchored form: the teacher's targets mapped into the anchor's space (equations above).</summary>
    public LabelFreeDistillation(
        OnlineTeacher teacher,
        OnlineTeacher anchor,
        int studentDim,
        double weight,
        double relational,
        double ridge,
        double anchorWeight = 0
    )
    {
        (_teacher, _anchor, _weight, _relational, _anchorWeight) = (teacher, anchor, weight, relational, anchorWeight);
        if (anchor.Teacher.EmbeddingSize != studentDim)
            throw new FaceDistillException(
                $"distill.anchor: {anchor.Teacher.Name} embeds in {anchor.Teacher.EmbeddingSize} dimensions, the "
                    + $"student in {studentDim} (model.embeddingSize): the anchor's space must be the student's"
            );
        using var t =
            teacher.CachedEmbeddings()
            ?? throw new FaceDistillException("distill.anchor needs the teacher's cache (distill.cache: true)");
        using var a =
            anchor.CachedEmbeddings()
            ?? throw new FaceDistillException($"distill.anchor: {anchor.Teacher.Name} gives no embedding");
        _alignment = EmbeddingAlignment.Fit(t, a, ridge);
        Log.Info(
            $"labelfree: {teacher.Teacher.Name} mapped into {anchor.Teacher.Name}'s space by least squares over "
                + $"{t.shape[0]} faces (R² {_alignment.RSquared:F3}, λ {_alignment.Lambda:G3})"
        );
    }

    /// <summary>t − μ_t: the pool's mean teacher embedding, or the batch's when the teacher is not cached.</summary>
    public static Tensor Centre(Tensor teacher, Tensor? mean = null)
    {
        var t = teacher.detach();
        return t - (mean ?? t.mean([0], keepdim: true));
    }

    public string Name => "labelfree";
    public IReadOnlyList<string> Views => ["clean"];
    public IEnumerable<TorchSharp.Modules.Parameter> Parameters => _target?.Parameters ?? [];

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

    public Tensor Compute(StudentOutputs student, Batch batch, StepContext ctx)
    {
        if (_target is not null)
            return _target.Compute(student, batch, ctx, (s, t) => Loss(s, Centre(t, _poolMean), _relational));
        var teacher = _teacher.EmbeddingFor(batch, ctx.Step);
        using var scope = NewDisposeScope();
        var target = _alignment!.Map(teacher);
        if (_anchorWeight > 0)
        {
            var own = _anchor!.EmbeddingFor(batch, ctx.Step);
            target =
                nn.functional.normalize(target, dim: 1) * (1 - _anchorWeight)
                + nn.functional.normalize(_alignment.Centre(own), dim: 1) * _anchorWeight;
        }
        var s = _alignment.Centre(student.Embedding);
        return Loss(s, target, _relational).MoveToOuterDisposeScope();
    }

    /// <summary>γ: the weight of the similarity-preserving (relational) term.</summary>
    public static readonly NumberKey Relational = new("relational", 1.0);

    /// <summary>A further teacher whose embedding space the main teacher's is mapped into (a teacher spec, as
    /// <c>distill.teacher</c>'s); unset: a learned projection instead.</summary>
    public static readonly TextKey Anchor = new("anchor");

    /// <summary>The ridge λ of the least-squares map into the anchor's space.</summary>
    public static readonly NumberKey Ridge = new("ridge", 0.5);

    /// <summary>The weight of the anchor's own embedding in the target, beside the mapped teacher's.</summary>
    public static readonly NumberKey AnchorWeight = new("anchorWeight", 0.0);

    public static readonly DistillMethod Method = new()
    {
        Name = "labelfree",
        Paper = "label-free embedding distillation with similarity-preserving KD (Tung & Mori, ICCV 2019)",
        Teacher = TeacherOutput.Embedding,
        Keys = [Relational, Anchor, Ridge, AnchorWeight],
        TeacherKeys = [Anchor],
        Needs = new Dictionary<string, string> { [Ridge.Name] = Anchor.Name, [AnchorWeight.Name] = Anchor.Name },
        Validate = (c, checks) =>
        {
            checks.NonNegative(Relational.Path, c.Distill.Get(Relational));
            checks.Positive(Ridge.Path, c.Distill.Get(Ridge));
            checks.Fraction(AnchorWeight.Path, c.Distill.Get(AnchorWeight), allowZero: true);
            checks.Describe(
                "distill.anchor",
                "a teacher spec as distill.teacher's, embedding in the student's size; needs distill.cache: true"
            );
            if (c.Distill.Find(Anchor) is not null && c.Distill.Cache != true)
                checks.Fail("distill.anchor", "needs distill.cache: true (the map is fitted on the cached pool)");
        },
        Create = (d, ctx) =>
            ctx.ExtraTeacher("anchor") is { } anchor
                ? new LabelFreeDistillation(
                    ctx.RequireTeacher("labelfree"),
                    anchor,
                    ctx.EmbeddingSize,
                    d.Weight,
                    d.Get(Relational),
                    d.Get(Ridge),
                    d.Get(AnchorWeight)
                )
                : new LabelFreeDistillation(
                    ctx.RequireTeacher("labelfree"),
                    ctx.EmbeddingSize,
                    d.Weight,
                    d.Get(Relational)
                ),
    };
}
