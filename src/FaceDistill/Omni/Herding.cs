namespace FaceDistill.Omni;

/// <summary>
/// Herding (Welling, ICML 2009; the exemplar selection of iCaRL, Rebuffi et al., CVPR 2017), the coreset baseline of
/// dataset distillation: greedily pick the images whose running mean feature stays closest to the class mean,
/// <code>
///   μ = (1/n) Σ_i f(x_i),    p_k = argmin_{x ∉ {p_1..p_{k−1}}} ‖ μ − (1/k)( f(x) + Σ_{j&lt;k} f(p_j) ) ‖
/// </code>
/// with f the (unit-length) embedding of the primitive model. Ties go to the earlier image.
/// </summary>
public static class Herding
{
    /// <summary>Indices (into <paramref name="features"/>) of the <paramref name="n"/> herded images, in pick
    /// order.</summary>
    public static int[] Select(IReadOnlyList<float[]> features, int n)
    {
        int count = features.Count;
        if (count == 0 || n <= 0)
            return [];
        n = Math.Min(n, count);
        int d = features[0].Length;
        var mu = new double[d];
        foreach (var f in features)
            for (int j = 0; j < d; j++)
                mu[j] += f[j] / (double)count;
        var sum = new double[d];
        var used = new bool[count];
        var picks = new int[n];
        for (int k = 1; k <= n; k++)
        {
            int best = -1;
            double bestDist = double.PositiveInfinity;
            for (int i = 0; i < count; i++)
            {
                if (used[i])
                    continue;
                double dist = 0;
                var f = features[i];
                for (int j = 0; j < d; j++)
                {
                    double e = mu[j] - (sum[j] + f[j]) / k;
                    dist += e * e;
                }
                if (dist < bestDist)
                {
                    bestDist = dist;
                    best = i;
                }
            }
            used[best] = true;
            picks[k - 1] = best;
            for (int j = 0; j < d; j++)
                sum[j] += features[best][j];
        }
        return picks;
    }
}
