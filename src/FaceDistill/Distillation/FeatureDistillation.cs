using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Distillation.Teachers;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Distillation;

/// <summary>
/// Embedding (feature) distillation: the student's embedding, projected to the teacher's dimension by a learned linear
/// map P when the sizes differ, is pulled to the teacher's embedding:
/// <code>
///   cosine:  L = mean_i (1 − cos(P·e_s,i , e_t,i))
///   l2:      L = mean_i ‖ P·e_s,i / ‖P·e_s,i‖ − e_t,i / ‖e_t,i‖ ‖²      (on unit vectors; = 2·cosine form)
/// </code>
/// Config: <c>distill.method: feature</c>, key <c>featureLoss</c>.
/// </summary>
public sealed class FeatureDistillation : IObjectiveTerm
{
    private readonly TeacherEmbeddingTarget _target;
    private readonly bool _cosine;
    private readonly double _weight;

    public FeatureDistillation(OnlineTeacher teacher, int studentDim, string loss, double weight)
    {
        if (loss is not ("cosine" or "l2"))
            throw new FaceDistillException($"feature distillation loss must be cosine or l2, not '{loss}'");
        _cosine = loss == "cosine";
        _weight = weight;
        _target = new TeacherEmbeddingTarget(teacher, studentDim);
    }

    public string Name => "feature";
    public IReadOnlyList<string> Views => ["clean"];
    public IEnumerable<TorchSharp.Modules.Parameter> Parameters => _target.Parameters;

    public double Weight(StepContext ctx) => _weight;

    public static Tensor Loss(Tensor student, Tensor teacher, bool cosine)
    {
        using var s = nn.functional.normalize(student, dim: 1);
        using var t = nn.functional.normalize(teacher.detach(), dim: 1);
        if (cosine)
        {
            using var c = (s * t).sum(1);
            return (1 - c).mean();
        }
        using var d = s - t;
        return (d * d).sum(1).mean();
    }

    public Tensor Compute(StudentOutputs student, Batch batch, StepContext ctx) =>
        _target.Compute(student, batch, ctx, (s, t) => Loss(s, t, _cosine));

    /// <summary>The distance between the student's (projected) and the teacher's embedding: cosine | l2.</summary>
    public static readonly TextKey FeatureLoss = new("featureLoss", "cosine");

    public static readonly DistillMethod Method = new()
    {
        Name = "feature",
        Paper = "embedding distillation (FitNets-style hint on the embedding, Romero et al. 2015)",
        Teacher = TeacherOutput.Embedding,
        Keys = [FeatureLoss],
        Validate = (c, checks) => checks.OneOf(FeatureLoss.Path, c.Distill.Get(FeatureLoss), ["cosine", "l2"]),
        Create = (d, ctx) =>
            new FeatureDistillation(ctx.RequireTeacher("feature"), ctx.EmbeddingSize, d.Get(FeatureLoss), d.Weight),
    };
}
