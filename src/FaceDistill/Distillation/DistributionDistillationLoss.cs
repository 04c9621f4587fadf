using FaceDistill.Config;
using FaceDistill.Data;
using FaceDistill.Faces;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Distillation;

/// <summary>Weights and histogram settings of the Distribution Distillation Loss.</summary>
public sealed record DdlOptions
{
    public int Bins { get; init; } = 101;
    public double Sigma { get; init; } = 0.1;
    public double PositiveKlWeight { get; init; } = 0.1;
    public double NegativeKlWeight { get; init; } = 0.02;
    public double OrderWeight { get; init; } = 0.5;
}

/// <summary>The parts of the loss, for logging.</summary>
public sealed record DdlParts(double PositiveKl, double NegativeKl, double Order);

/// <summary>Distribution Distillation Loss (Huang, Shen, Li, Tai, Li, Yang, Wu, Li, Huang — "Improving Face
/// Recognition from Hard Samples via Distribution Distillation Loss", ECCV 2020). Easy samples (e.g. clean, frontal,
/// high-resolution faces) act as the teacher: the similarity distributions the network reaches on them are targets for
/// the distributions on hard samples (the same people, degraded: low resolution, masks, pose).
/// <code>
///   embeddings L2-normalised;  s⁺ = cos of every same-identity pair in the batch;
///   s⁻ = cos of each sample's hardest negative
///   soft histogram over [−1, 1], bins t_r, Gaussian kernel:  h_r = Σ_i exp(−(s_i − t_r)² / 2σ²),
///   normalised to Σ_r h_r = 1
///   P± = h(s± of the easy branch) (detached: the teacher),   Q± = h(s± of the hard branch)
///   L_DDL = 0.1 · KL(P⁺ ‖ Q⁺) + 0.02 · KL(P⁻ ‖ Q⁻) + 0.5 · Σ_branch (E[s⁻] − E[s⁺])       (order terms)
/// </code>
/// It is added to the margin loss (ArcFace/CosFace) of both branches. σ = 0.1 and the weights are the paper's defaults.
/// As a training term (<see cref="DistributionDistillationTerm"/>) the easy branch is the student on the clean view,
/// the hard branch the same network on a degraded view of the same faces. Config: <c>distill.method: ddl</c>, key
/// <c>hardView</c> (e.g. <c>lowres:16</c>, <c>occluded:mask</c>); no teacher.</summary>
public static class DistributionDistillationLoss
{
    public const double Epsilon = 1e-8;

    /// <summary>Similarities of all same-identity pairs (i &lt; j) and each sample's hardest negative.</summary>
    public static (Tensor Positive, Tensor Negative) PairSimilarities(Tensor embeddings, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var e = nn.functional.normalize(embeddings, dim: 1);
        var sim = e.matmul(e.t());
        var same = labels.unsqueeze(0).eq(labels.unsqueeze(1));
        long n = labels.shape[0];
        var upper = ones(n, n, dtype: ScalarType.Bool, device: embeddings.device).triu(1);
        var positive = sim.masked_select(same.logical_and(upper));
        var negMasked = sim.masked_fill(same, -2.0);
        var hardest = negMasked.max(1).values;
        var hasNegative = same.logical_not().any(1);
        var negative = hardest.masked_select(hasNegative);
        return (positive.MoveToOuterDisposeScope(), negative.MoveToOuterDisposeScope());
    }

    /// <summary>Gaussian-kernel soft histogram of values in [−1, 1], normalised to sum 1 (differentiable).</summary>
    public static Tensor SoftHistogram(Tensor values, int bins, double sigma)
    {
        using var scope = NewDisposeScope();
        var centers = linspace(-1, 1, bins, dtype: values.dtype, device: values.device);
        var d = values.unsqueeze(1) - centers.unsqueeze(0);
        var h = (d * d / (-2 * sigma * sigma)).exp().sum(dim: 0); // (a literal 0 alone would bind to sum(ScalarType))
        return (h / (h.sum() + Epsilon)).MoveToOuterDisposeScope();
    }

    private static double Scalar(Tensor t)
    {
        using var d = t.detach().to(ScalarType.Float64);
        return d.item<double>();
    }

    public static Tensor Kl(Tensor p, Tensor q) => (p * ((p + Epsilon).log() - (q + Epsilon).log())).sum();

    /// <summary>L_DDL for one batch with an easy and a hard branch (same identities, typically the same images
    /// degraded).</summary>
    public static Tensor Loss(
        Tensor easyEmbeddings,
        Tensor easyLabels,
        Tensor hardEmbeddings,
        Tensor hardLabels,
        DdlOptions? options,
        out DdlParts parts
    )
    {
        var o = options ?? new DdlOptions();
        using var scope = NewDisposeScope();
        var (ePos, eNeg) = PairSimilarities(easyEmbeddings, easyLabels);
        var (hPos, hNeg) = PairSimilarities(hardEmbeddings, hardLabels);
        var loss = zeros(1, dtype: hardEmbeddings.dtype, device: hardEmbeddings.device).squeeze();
        double klPos = 0,
            klNeg = 0;
        if (ePos.numel() > 0 && hPos.numel() > 0)
        {
            var kl = Kl(SoftHistogram(ePos.detach(), o.Bins, o.Sigma), SoftHistogram(hPos, o.Bins, o.Sigma));
            klPos = Scalar(kl);
            loss = loss + kl * o.PositiveKlWeight;
        }
        if (eNeg.numel() > 0 && hNeg.numel() > 0)
        {
            var kl = Kl(SoftHistogram(eNeg.detach(), o.Bins, o.Sigma), SoftHistogram(hNeg, o.Bins, o.Sigma));
            klNeg = Scalar(kl);
            loss = loss + kl * o.NegativeKlWeight;
        }
        var order = zeros_like(loss);
        if (ePos.numel() > 0 && eNeg.numel() > 0)
            order = order + eNeg.mean() - ePos.mean();
        if (hPos.numel() > 0 && hNeg.numel() > 0)
            order = order + hNeg.mean() - hPos.mean();
        loss = loss + order * o.OrderWeight;
        parts = new DdlParts(klPos, klNeg, Scalar(order));
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>The degraded view of the hard branch, e.g. lowres:16 (the easy branch is the clean view).</summary>
    public static readonly TextKey HardView = new("hardView", "lowres:16");

    public static readonly DistillMethod Method = new()
    {
        Name = "ddl",
        Paper = "Huang et al., Distribution Distillation Loss, ECCV 2020",
        Teacher = TeacherOutput.None,
        Keys = [HardView],
        Validate = (c, checks) =>
        {
            checks.Parses(HardView.Path, () => FaceViews.Parse(c.Distill.Get(HardView)));
            if (c.Model.Head.Type == "multiface")
                checks.Fail(
                    "distill.method",
                    "'ddl' needs one margin head; model.head.type 'multiface' has one per group"
                );
        },
        Create = (d, _) => new DistributionDistillationTerm(d.Get(HardView), d.Weight),
    };
}

/// <summary>
/// <see cref="DistributionDistillationLoss"/> as a training term: the term adds the margin loss of the hard branch (the
/// paper trains both branches with it; the clean one already has it as the task loss) and L_DDL between the two
/// similarity distributions.
/// </summary>
public sealed class DistributionDistillationTerm(string hardView, double weight = 1, DdlOptions? options = null)
    : IObjectiveTerm
{
    public string Name => "ddl";
    public IReadOnlyList<string> Views => [hardView];
    public IEnumerable<TorchSharp.Modules.Parameter> Parameters => [];

    public double Weight(StepContext ctx) => weight;

    public Tensor Compute(StudentOutputs student, Batch batch, StepContext ctx)
    {
        var hard = student.EmbedView(hardView);
        var hardTask = student.TaskLoss(hard);
        var ddl = DistributionDistillationLoss.Loss(
            student.Embedding,
            student.Labels,
            hard,
            student.Labels,
            options,
            out _
        );
        return hardTask + ddl;
    }
}
