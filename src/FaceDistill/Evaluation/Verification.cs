using FaceDistill.Data;

namespace FaceDistill.Evaluation;

public sealed record RocPoint(double Threshold, double Far, double Tar);

public sealed record VerificationResult
{
    public required double Accuracy { get; init; }
    public required double AccuracyStd { get; init; }
    public required double[] FoldAccuracies { get; init; }
    public required double[] FoldThresholds { get; init; }
    public required double Auc { get; init; }
    public required double Eer { get; init; }

    /// <summary>TAR at FAR = 1e-1, 1e-2, 1e-3 (only as far as the number of negative pairs allows: 1/FAR of
    /// them).</summary>
    public required IReadOnlyDictionary<double, double> TarAtFar { get; init; }
    public required IReadOnlyList<RocPoint> Roc { get; init; }

    /// <summary>Per-pair correctness at the fold's threshold (for paired significance tests).</summary>
    public required bool[] Correct { get; init; }

    /// <summary>The pair scores and ground truth evaluated (for similarity-distribution plots).</summary>
    public double[] Scores { get; init; } = [];
    public bool[] Same { get; init; } = [];
    public int Pairs => Correct.Length;
}

/// <summary>
/// The LFW verification protocol (Huang et al., 2007, View 2) on similarity scores: for each of the k folds the
/// threshold that maximises accuracy on the other k−1 folds is applied to the held-out fold; the result is the mean
/// ± standard deviation of the k fold accuracies. Plus the threshold-free ROC, its AUC, the equal error rate and TAR at
/// fixed FAR, all on the pooled scores.
/// </summary>
public static class Verification
{
    public static readonly double[] StandardFars = [1e-1, 1e-2, 1e-3];

    /// <summary>The verification report of pair scores (higher = more alike): <see cref="Evaluate"/> over the pairs'
    /// labels and folds, as the metrics every table reads — acc, acc_std, auc, eer, then <paramref name="extra"/>,
    /// then TAR at each FAR.</summary>
    public static EvalReport Report(
        IReadOnlyList<double> scores,
        PairList pairs,
        IEnumerable<KeyValuePair<string, double>>? extra = null
    )
    {
        var r = Evaluate(scores, pairs.Pairs.Select(p => p.Same).ToArray(), pairs.Pairs.Select(p => p.Fold).ToArray());
        var m = new Dictionary<string, double>
        {
            ["acc"] = r.Accuracy,
            ["acc_std"] = r.AccuracyStd,
            ["auc"] = r.Auc,
            ["eer"] = r.Eer,
        };
        foreach (var (k, v) in extra ?? [])
            m[k] = v;
        foreach (var (far, tar) in r.TarAtFar)
            m[$"tar@far={far:0.###}"] = tar;
        return new EvalReport("verification", m, r);
    }

    public static VerificationResult Evaluate(
        IReadOnlyList<double> scores,
        IReadOnlyList<bool> same,
        IReadOnlyList<int> folds
    )
    {
        int n = scores.Count;
        if (n == 0 || same.Count != n || folds.Count != n)
            throw new ArgumentException("scores, labels and folds must have the same, positive length");
        if (scores.Any(s => !double.IsFinite(s)))
            throw new Core.FaceDistillException(
                $"{scores.Count(s => !double.IsFinite(s))} of {n} pair scores are NaN or infinite: the model's "
                    + "embeddings are not finite (check its weights and preprocessing options)"
            );
        var foldIds = folds.Distinct().OrderBy(f => f).ToArray();
        var accs = new double[foldIds.Length];
        var ths = new double[foldIds.Length];
        var correct = new bool[n];
        for (int k = 0; k < foldIds.Length; k++)
        {
            var train = Enumerable.Range(0, n).Where(i => folds[i] != foldIds[k] || foldIds.Length == 1).ToArray();
            var test = Enumerable.Range(0, n).Where(i => folds[i] == foldIds[k]).ToArray();
            ths[k] = BestThreshold(train.Select(i => scores[i]).ToArray(), train.Select(i => same[i]).ToArray());
            int ok = 0;
            foreach (var i in test)
            {
                correct[i] = scores[i] > ths[k] == same[i];
                if (correct[i])
                    ok++;
            }
            accs[k] = (double)ok / test.Length;
        }
        double mean = accs.Average();
        double std = accs.Length > 1 ? Math.Sqrt(accs.Sum(a => (a - mean) * (a - mean)) / (accs.Length - 1)) : 0;
        var roc = Roc(scores, same);
        int negatives = same.Count(s => !s);
        var tar = new Dictionary<double, double>();
        foreach (var far in StandardFars)
            if (negatives * far >= 1 - 1e-9)
                tar[far] = TarAtFar(scores, same, far);
        return new VerificationResult
        {
            Accuracy = mean,
            AccuracyStd = std,
            FoldAccuracies = accs,
            FoldThresholds = ths,
            Auc = Auc(roc),
            Eer = Eer(roc),
            TarAtFar = tar,
            Roc = roc,
            Correct = correct,
            Scores = scores.ToArray(),
            Same = same.ToArray(),
        };
    }

    /// <summary>The threshold t maximising accuracy of "same ⇔ score &gt; t"; candidates are midpoints of sorted
    /// scores.</summary>
    public static double BestThreshold(double[] scores, bool[] same)
    {
        var order = Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ToArray();
        int positives = same.Count(s => s);
        // threshold below everything: all predicted same → correct = positives
        int best = positives,
            correct = positives;
        double bestT = scores[order[0]] - 1e-6;
        for (int j = 0; j < order.Length; j++)
        {
            // move order[j] to "different"
            correct += same[order[j]] ? -1 : 1;
            bool tie = j + 1 < order.Length && scores[order[j + 1]] == scores[order[j]];
            if (tie)
                continue;
            if (correct > best)
            {
                best = correct;
                bestT = j + 1 < order.Length ? (scores[order[j]] + scores[order[j + 1]]) / 2 : scores[order[j]] + 1e-6;
            }
        }
        return bestT;
    }

    /// <summary>ROC points from the highest threshold down: (FAR, TAR) at "score &gt; t" for every distinct
    /// score.</summary>
    public static List<RocPoint> Roc(IReadOnlyList<double> scores, IReadOnlyList<bool> same)
    {
        int p = same.Count(s => s),
            q = same.Count - p;
        if (p == 0 || q == 0)
            throw new ArgumentException("the ROC needs both same and different pairs");
        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ToArray();
        var pts = new List<RocPoint> { new(double.PositiveInfinity, 0, 0) };
        int tp = 0,
            fp = 0;
        for (int j = 0; j < order.Length; j++)
        {
            if (same[order[j]])
                tp++;
            else
                fp++;
            if (j + 1 < order.Length && scores[order[j + 1]] == scores[order[j]])
                continue;
            pts.Add(new RocPoint(scores[order[j]], (double)fp / q, (double)tp / p));
        }
        return pts;
    }

    public static double Auc(IReadOnlyList<RocPoint> roc)
    {
        double a = 0;
        for (int i = 1; i < roc.Count; i++)
            a += (roc[i].Far - roc[i - 1].Far) * (roc[i].Tar + roc[i - 1].Tar) / 2;
        return a;
    }

    /// <summary>Equal error rate: where FAR = FRR (= 1 − TAR), linearly interpolated between ROC points.</summary>
    public static double Eer(IReadOnlyList<RocPoint> roc)
    {
        for (int i = 1; i < roc.Count; i++)
        {
            double d0 = roc[i - 1].Far - (1 - roc[i - 1].Tar),
                d1 = roc[i].Far - (1 - roc[i].Tar);
            if (d0 <= 0 && d1 >= 0)
            {
                double t = d1 == d0 ? 0 : -d0 / (d1 - d0);
                return roc[i - 1].Far + t * (roc[i].Far - roc[i - 1].Far);
            }
        }
        return 0.5;
    }

    /// <summary>TAR at the strictest threshold whose FAR does not exceed <paramref name="far"/>.</summary>
    public static double TarAtFar(IReadOnlyList<double> scores, IReadOnlyList<bool> same, double far)
    {
        var neg = scores.Where((_, i) => !same[i]).OrderByDescending(s => s).ToArray();
        var pos = scores.Where((_, i) => same[i]).ToArray();
        int allowed = (int)Math.Floor(far * neg.Length + 1e-9); // false accepts allowed
        double threshold = allowed >= neg.Length ? double.NegativeInfinity : neg[allowed];
        return pos.Count(s => s > threshold) / (double)pos.Length;
    }
}
