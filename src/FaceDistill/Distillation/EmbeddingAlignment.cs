using FaceDistill.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Distillation;

/// <summary>
/// A teacher's embedding space mapped linearly into another net's — the anchor's, e.g. a pretrained student's own
/// start — by ridge regression over the same faces, so that the student can be distilled in its own space, with no
/// projection learned from scratch. With the unit-length embeddings of the same N faces by the teacher, T (N × D_t),
/// and by the anchor, A (N × D_a), each centred by its mean:
/// <code>
///   X = T − μ_t,   Y = A − μ_a
///   W = (XᵀX + λ·I)⁻¹ · XᵀY,   λ = ρ · tr(XᵀX) / D_t        (ρ: distill.ridge)
///   τ(t) = (t/‖t‖ − μ_t) · W                                   the target of a face the teacher embeds as t
///   R²   = 1 − ‖X·W − Y‖²_F / ‖Y‖²_F
/// </code>
/// τ keeps the teacher's knowledge that is linear in its embedding, expressed in the anchor's coordinates
/// (how well τ verifies against both nets: scripts/analysis/mapped-teacher.cs, docs/results/pool-distillation.md).
/// The ridge λ is relative to the mean eigenvalue of XᵀX, so ρ means the same whatever N and D_t.
/// </summary>
public sealed class EmbeddingAlignment : IDisposable
{
    /// <summary>W (D_t × D_a).</summary>
    public Tensor Weights { get; }

    /// <summary>μ_t (1 × D_t), μ_a (1 × D_a): the means of the unit-length embeddings.</summary>
    public Tensor TeacherMean { get; }
    public Tensor AnchorMean { get; }

    /// <summary>R² of the fit on the faces it was fitted on.</summary>
    public double RSquared { get; }

    /// <summary>λ as applied (ρ · tr(XᵀX) / D_t).</summary>
    public double Lambda { get; }

    private EmbeddingAlignment(Tensor w, Tensor meanT, Tensor meanA, double r2, double lambda)
    {
        (Weights, TeacherMean, AnchorMean, RSquared, Lambda) = (w, meanT, meanA, r2, lambda);
    }

    /// <summary>Fits W on the rows of <paramref name="teacher"/> and <paramref name="anchor"/> (the same faces, in the
    /// same order); <paramref name="ridge"/> is ρ.</summary>
    public static EmbeddingAlignment Fit(Tensor teacher, Tensor anchor, double ridge)
    {
        if (teacher.shape[0] != anchor.shape[0])
            throw new FaceDistillException(
                $"teacher and anchor embeddings cover {teacher.shape[0]} and {anchor.shape[0]} faces: not the same set"
            );
        if (teacher.shape[0] < 2)
            throw new FaceDistillException("fitting the teacher → anchor map needs at least 2 faces");
        using var scope = NewDisposeScope();
        var t = nn.functional.normalize(teacher.to(float64), dim: 1);
        var a = nn.functional.normalize(anchor.to(float64), dim: 1);
        var meanT = t.mean([0], keepdim: true);
        var meanA = a.mean([0], keepdim: true);
        var x = t - meanT;
        var y = a - meanA;
        var gram = x.t().matmul(x);
        long d = gram.shape[0];
        double lambda = ridge * gram.trace().item<double>() / d;
        var w = linalg.solve(gram + eye(d, dtype: float64) * lambda, x.t().matmul(y));
        var residual = x.matmul(w) - y;
        double r2 = 1 - residual.pow(2).sum().item<double>() / Math.Max(y.pow(2).sum().item<double>(), 1e-30);
        return new EmbeddingAlignment(
            w.to(float32).MoveToOuterDisposeScope(),
            meanT.to(float32).MoveToOuterDisposeScope(),
            meanA.to(float32).MoveToOuterDisposeScope(),
            r2,
            lambda
        );
    }

    /// <summary>τ(t) = (t/‖t‖ − μ_t)·W for a batch of teacher embeddings (N × D_t → N × D_a), no gradient.</summary>
    public Tensor Map(Tensor teacher)
    {
        using var scope = NewDisposeScope();
        var t = nn.functional.normalize(teacher.detach(), dim: 1) - TeacherMean.to(teacher.device);
        return t.matmul(Weights.to(teacher.device)).MoveToOuterDisposeScope();
    }

    /// <summary>The anchor-space point a student embedding s stands for: s/‖s‖ − μ_a (what τ is compared
    /// with).</summary>
    public Tensor Centre(Tensor student) => nn.functional.normalize(student, dim: 1) - AnchorMean.to(student.device);

    public void Dispose()
    {
        Weights.Dispose();
        TeacherMean.Dispose();
        AnchorMean.Dispose();
    }
}
