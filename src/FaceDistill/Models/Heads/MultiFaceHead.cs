using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Models.Heads;

/// <summary>MultiFace (Xu, Wang, Ji, Cui, Ren, Wang — "MultiFace: A Generic Training Mechanism for Boosting Face
/// Recognition Performance", 2021): the D-dimensional embedding is learned as an ensemble of K low-dimensional
/// features. It is split into K groups of D/K dimensions, each with its own margin head (softmax, CosFace or ArcFace)
/// over the same classes; at test time the groups are simply concatenated, i.e. the embedding is used as it is.
/// <code>
///   x = [x_1, …, x_K],  x_k ∈ R^(D/K)
///   L = (1/K) Σ_k L_head_k(x_k, y)  +  w_full · L_head_full(x, y)      (w_full = 0 by default)
/// </code>
/// (The 1/K keeps the gradient scale of a single head; it is a constant factor on the paper's sum.) With labels the
/// head returns the group logits stacked as <c>[N, K, C]</c> (<c>[N, K+1, C]</c> with the full-embedding head last);
/// without labels, the mean of the margin-free group logits <c>[N, C]</c>.</summary>
public sealed class MultiFaceHead : Head
{
    private readonly TorchSharp.Modules.ModuleList<Head> groups;
    private readonly Head? full;
    public int Groups { get; }
    public double FullWeight { get; }

    public MultiFaceHead(
        long embeddingSize,
        int groups,
        Func<long, Head> groupHead,
        Head? fullHead = null,
        double fullWeight = 0
    )
        : base("MultiFaceHead")
    {
        if (groups < 1 || embeddingSize % groups != 0)
            throw new ArgumentException(
                $"MultiFace needs the embedding size ({embeddingSize}) divisible by the group count ({groups})"
            );
        Groups = groups;
        FullWeight = fullWeight;
        this.groups = nn.ModuleList(
            Enumerable.Range(0, groups).Select(_ => groupHead(embeddingSize / groups)).ToArray()
        );
        full = fullWeight > 0 ? fullHead : null;
        RegisterComponents();
    }

    private Tensor[] Split(Tensor x) => x.chunk(Groups, 1);

    public override Tensor forward(Tensor x, Tensor? labels)
    {
        var parts = Split(x);
        var logits = parts.Select((p, k) => groups[k].call(p, labels)).ToList();
        if (labels is not null && full is not null)
            logits.Add(full.call(x, labels));
        try
        {
            if (labels is null)
            {
                using var stacked = stack(logits, 1);
                return stacked.mean([1]);
            }
            return stack(logits, 1);
        }
        finally
        {
            foreach (var t in logits)
                t.Dispose();
            foreach (var p in parts)
                p.Dispose();
        }
    }

    /// <summary>(1/K) Σ_k CE(group k's logits, y) + w_full · CE(full-embedding logits, y).</summary>
    public override Tensor Loss(Tensor outputs, Tensor labels)
    {
        var total = zeros(1, dtype: outputs.dtype, device: outputs.device).squeeze();
        for (int k = 0; k < Groups; k++)
        {
            using var logits = outputs.select(1, k);
            total = total + groups[k].Loss(logits, labels);
        }
        total = total / Groups;
        if (full is null || outputs.shape[1] == Groups)
            return total;
        using var fullLogits = outputs.select(1, Groups);
        using var lf = full.Loss(fullLogits, labels);
        return total + lf * FullWeight;
    }
}
