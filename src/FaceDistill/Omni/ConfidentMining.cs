using FaceDistill.Core;
using FaceDistill.Data;
using static TorchSharp.torch;

namespace FaceDistill.Omni;

/// <summary>The selection rule's keys (config <c>derive[].mine</c>).</summary>
/// <param name="Rule">both (default) | prototype | knn | confidence (plain pseudo-labelling, the ablation)</param>
/// <param name="K">neighbours of the k-NN vote</param>
/// <param name="MinConfidence">τ_p: the classifier's posterior of the predicted class</param>
/// <param name="MinSimilarity">τ_s: cosine of the face to its class prototype</param>
/// <param name="MinVote">τ_v: fraction of the k nearest labelled faces that carry the predicted class</param>
/// <param name="Quota">at most this many mined faces per class (0 = no absolute cap)</param>
/// <param name="QuotaRatio">at most this multiple of the class's labelled count (0 = no relative cap)</param>
public sealed record MiningOptions(
    string Rule = "both",
    int K = 10,
    double MinConfidence = 0.8,
    double MinSimilarity = 0.5,
    double MinVote = 0.6,
    int Quota = 0,
    double QuotaRatio = 4
)
{
    public static readonly string[] Rules = ["both", "prototype", "knn", "confidence"];

    public void Check()
    {
        if (!Rules.Contains(Rule))
            throw new FaceDistillException($"mine.rule '{Rule}' is not one of {string.Join(", ", Rules)}");
        if (K is < 1 or > 1000)
            throw new FaceDistillException($"mine.k must be in [1, 1000], found {K}");
        if (!(MinConfidence is >= 0 and <= 1))
            throw new FaceDistillException($"mine.minConfidence must be in [0, 1], found {MinConfidence}");
        if (!(MinSimilarity is >= -1 and <= 1))
            throw new FaceDistillException($"mine.minSimilarity must be in [-1, 1], found {MinSimilarity}");
        if (!(MinVote is >= 0 and <= 1))
            throw new FaceDistillException($"mine.minVote must be in [0, 1], found {MinVote}");
        if (Quota is < 0 or > 100_000_000)
            throw new FaceDistillException($"mine.quota must be in [0, 1e8], found {Quota}");
        if (!(QuotaRatio is >= 0 and <= 1e6))
            throw new FaceDistillException($"mine.quotaRatio must be in [0, 1e6], found {QuotaRatio}");
    }
}

/// <summary>One mined face: its row in the pool, the class given to it, and the numbers that chose it.</summary>
public sealed record MinedFace(long Index, int Class, float Score, float Confidence, float Similarity, float Vote);

/// <summary>
/// Omni-supervised mining (Liu et al., arXiv 2005.08551): the primitive model, trained on the few labelled faces, gives
/// every unlabelled face x of the pool an embedding f(x) (unit length) and a posterior p(·|x); a face joins class ĉ =
/// argmax_c p(c|x) when it is both confidently classified and close, in feature space, to the labelled faces of ĉ:
/// <code>
///   μ_c  = normalise( Σ_{i: y_i = c} f(x_i) )                            (class prototypes of the labelled set)
///   s(x) = cos(f(x), μ_ĉ),   ĉ must also be argmax_c cos(f(x), μ_c)       (prototype rule)
///   v(x) = |{ j ∈ N_k(x) : y_j = ĉ }| / k,  N_k = k most similar labelled (k-NN vote rule)
///   accept x  ⇔  p(ĉ|x) ≥ τ_p  ∧  s(x) ≥ τ_s  ∧  v(x) ≥ τ_v            (rule "both"; "prototype" drops v,
///                                                                       "knn" drops s, "confidence" keeps only τ_p)
///   score(x) = p(ĉ|x) · s(x)
/// </code>
/// Per class the Q_c accepted faces of highest score are kept, Q_c = min(quota, ⌊quotaRatio · n_c⌋) with n_c the
/// class's labelled count (either cap off when 0), so a dominant class cannot swamp the rest. The pool is read in
/// chunks from the <see cref="FeatureStore"/> and the survivors held in one bounded min-heap per class: memory is the
/// chunk plus Σ_c Q_c, whatever the pool's size. Ties are broken by pool order, so the result is deterministic.
/// </summary>
public static class ConfidentMining
{
    public const int ChunkRows = 8192;

    /// <param name="labelled">unit-length embeddings of the labelled faces, <c>[n, D]</c> row-major</param>
    /// <param name="labels">their classes, 0 ≤ y &lt; <paramref name="classes"/></param>
    /// <param name="pool">rows <c>[f(x) (D) | p(·|x) (classes)]</c></param>
    public static List<MinedFace> Mine(
        float[] labelled,
        int[] labels,
        int classes,
        FeatureStore pool,
        MiningOptions options,
        IProgressTask? progress = null
    )
    {
        options.Check();
        int n = labels.Length;
        int d = pool.Dim - classes;
        if (d <= 0)
            throw new FaceDistillException($"{pool.Path}: rows of {pool.Dim} cannot hold {classes} class scores");
        if (n == 0 || labelled.Length != (long)n * d)
            throw new FaceDistillException($"mining needs labelled features of width {d} (found {labelled.Length})");
        if (!pool.Complete)
            throw FaceDistillException.ForFile(pool.Path, "feature store is not complete");
        var counts = new int[classes];
        foreach (var y in labels)
        {
            if (y < 0 || y >= classes)
                throw new FaceDistillException($"labelled class {y} outside [0, {classes})");
            counts[y]++;
        }
        for (int c = 0; c < classes; c++)
            if (counts[c] == 0)
                throw new FaceDistillException(
                    $"class {c} has no labelled face: its prototype and its neighbours are undefined"
                );
        var quotas = Quotas(counts, options);
        var heaps = Enumerable.Range(0, classes).Select(_ => new PriorityQueue<MinedFace, (float, long)>()).ToArray();
        int k = Math.Min(options.K, n);
        using var lab = tensor(labelled, [n, d]);
        using var prototypes = Prototypes(lab, labels, classes);
        using var labelIds = tensor(labels.Select(y => (long)y).ToArray());
        var rows = new float[ChunkRows * pool.Dim];
        for (long start = 0; start < pool.Count; start += ChunkRows)
        {
            int b = (int)Math.Min(ChunkRows, pool.Count - start);
            pool.Read(start, b, rows);
            using var scope = NewDisposeScope();
            var chunk = tensor(rows.AsSpan(0, b * pool.Dim).ToArray(), [b, pool.Dim]);
            var f = chunk.narrow(1, 0, d);
            var p = chunk.narrow(1, d, classes);
            var (conf, pred) = p.max(1);
            var proto = f.matmul(prototypes.t());
            var protoArg = proto.argmax(1);
            var sim = proto.gather(1, pred.unsqueeze(1)).squeeze(1);
            var present = f.abs().sum(1).gt(0).data<bool>().ToArray(); // a zero row: an image that could not be read
            float[]? vote = null;
            if (options.Rule is "both" or "knn")
            {
                var (_, nearest) = f.matmul(lab.t()).topk(k, 1);
                var neighbourLabels = labelIds.index_select(0, nearest.flatten()).view(b, k);
                vote = neighbourLabels
                    .eq(pred.unsqueeze(1))
                    .to_type(ScalarType.Float32)
                    .mean([1])
                    .data<float>()
                    .ToArray();
            }
            var confA = conf.data<float>().ToArray();
            var predA = pred.data<long>().ToArray();
            var simA = sim.data<float>().ToArray();
            var protoA = protoArg.data<long>().ToArray();
            for (int i = 0; i < b; i++)
            {
                if (!present[i])
                    continue;
                int c = (int)predA[i];
                float v = vote?[i] ?? float.NaN;
                if (!Accept(options, confA[i], simA[i], protoA[i] == c, v))
                    continue;
                var face = new MinedFace(start + i, c, confA[i] * simA[i], confA[i], simA[i], v);
                Offer(heaps[c], face, quotas[c]);
            }
            progress?.Update(start + b);
        }
        return heaps
            .SelectMany(h => h.UnorderedItems.Select(e => e.Element))
            .OrderBy(m => m.Class)
            .ThenByDescending(m => m.Score)
            .ThenBy(m => m.Index)
            .ToList();
    }

    /// <summary>Q_c = min(quota, ⌊quotaRatio · n_c⌋), each cap off when 0.</summary>
    public static int[] Quotas(int[] labelledCounts, MiningOptions o) =>
        labelledCounts
            .Select(n =>
            {
                long q = long.MaxValue;
                if (o.Quota > 0)
                    q = o.Quota;
                if (o.QuotaRatio > 0)
                    q = Math.Min(q, (long)Math.Floor(o.QuotaRatio * n));
                return (int)Math.Min(q, int.MaxValue);
            })
            .ToArray();

    private static bool Accept(MiningOptions o, float conf, float sim, bool protoAgrees, float vote)
    {
        if (conf < o.MinConfidence)
            return false;
        bool proto = protoAgrees && sim >= o.MinSimilarity;
        bool knn = vote >= o.MinVote;
        return o.Rule switch
        {
            "both" => proto && knn,
            "prototype" => proto,
            "knn" => knn,
            _ => true,
        };
    }

    /// <summary>Keeps the <paramref name="quota"/> best by (score, earlier pool index).</summary>
    private static void Offer(PriorityQueue<MinedFace, (float, long)> heap, MinedFace face, int quota)
    {
        if (quota <= 0)
            return;
        var priority = (face.Score, -face.Index);
        if (heap.Count < quota)
        {
            heap.Enqueue(face, priority);
            return;
        }
        heap.TryPeek(out _, out var worst);
        if (priority.CompareTo(worst) > 0)
            heap.EnqueueDequeue(face, priority);
    }

    /// <summary>μ_c = normalise(Σ_{y_i = c} f(x_i)), <c>[classes, D]</c>.</summary>
    public static Tensor Prototypes(Tensor labelled, int[] labels, int classes)
    {
        using var scope = NewDisposeScope();
        using var ids = tensor(labels.Select(y => (long)y).ToArray());
        var sums = zeros(classes, labelled.shape[1]).index_add_(0, ids, labelled, 1);
        return nn.functional.normalize(sums, dim: 1).MoveToOuterDisposeScope();
    }
}

/// <summary>What mining gave, per class: how many faces it kept and, where the pool knows the true label (e.g. the
/// hidden labels of FER2013's unlabelled part), how many of those are right.</summary>
public sealed record MiningSummary(int[] Mined, int[] Known, int[] Correct)
{
    /// <summary>Precision over the mined faces whose true label is known (NaN when none is).</summary>
    public double Precision => Known.Sum() == 0 ? double.NaN : (double)Correct.Sum() / Known.Sum();

    public double ClassPrecision(int c) => Known[c] == 0 ? double.NaN : (double)Correct[c] / Known[c];

    /// <param name="truth">the true class of pool row i, or −1 when unknown</param>
    public static MiningSummary Of(IReadOnlyList<MinedFace> mined, int classes, Func<long, int> truth)
    {
        var m = new int[classes];
        var known = new int[classes];
        var correct = new int[classes];
        foreach (var f in mined)
        {
            m[f.Class]++;
            int t = truth(f.Index);
            if (t < 0)
                continue;
            known[f.Class]++;
            if (t == f.Class)
                correct[f.Class]++;
        }
        return new MiningSummary(m, known, correct);
    }
}
