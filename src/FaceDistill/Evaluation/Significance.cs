using FaceDistill.Core;

namespace FaceDistill.Evaluation;

public sealed record TestResult(string Test, double Statistic, double PValue);

/// <summary>Paired significance tests for comparing two models on the same test items (every comparison in a results
/// table carries its p-value against the baseline).
/// <list type="bullet">
/// <item>McNemar (1947), for paired classification outcomes: with b = #(A right, B wrong) and c = #(A wrong, B right),
/// the exact two-sided binomial test <c>p = min(1, 2·Σ_{k ≤ min(b,c)} C(b+c, k)·2^−(b+c))</c> for b + c ≤ 50, otherwise
/// the continuity-corrected χ² = (|b − c| − 1)² / (b + c) with one degree of freedom.</item>
/// <item>Paired sign-flip permutation test, for per-item differences d_i (absolute errors for MAE, correctness for
/// accuracy): under H0 each d_i is symmetric around 0; <c>p = P(|mean(±d)| ≥ |mean(d)|)</c>, enumerated exactly for n ≤
/// 20, otherwise from R random sign flips as (1 + #extreme) / (R + 1).</item>
/// <item>Paired sign-flip test on per-item differences of any size (e.g. a model's correctness averaged over its
/// seeds minus a reference's 0/1 outcome): exact over the nonzero differences when there are at most 20, otherwise the
/// normal approximation of the sign-flip distribution (Fisher–Pitman), <c>z = Σd_i / √(Σd_i²)</c>,
/// <c>p = erfc(|z|/√2)</c> — for d_i ∈ {−1, 0, 1} this is McNemar's χ² without continuity correction.</item>
/// <item>Paired bootstrap of the mean difference (Efron &amp; Tibshirani), two-sided p from the resampled means' side
/// of 0, with a percentile confidence interval.</item>
/// </list>
/// </summary>
public static class Significance
{
    public static TestResult McNemar(IReadOnlyList<bool> aCorrect, IReadOnlyList<bool> bCorrect)
    {
        if (aCorrect.Count != bCorrect.Count)
            throw new ArgumentException("paired outcomes must have the same length");
        int b = 0,
            c = 0;
        for (int i = 0; i < aCorrect.Count; i++)
        {
            if (aCorrect[i] && !bCorrect[i])
                b++;
            else if (!aCorrect[i] && bCorrect[i])
                c++;
        }
        int n = b + c;
        if (n == 0)
            return new TestResult("mcnemar-exact", 0, 1);
        if (n <= 50)
        {
            int k = Math.Min(b, c);
            double tail = 0;
            for (int i = 0; i <= k; i++)
                tail += Math.Exp(LogChoose(n, i) - n * Math.Log(2));
            return new TestResult("mcnemar-exact", Math.Abs(b - c), Math.Min(1, 2 * tail));
        }
        double chi2 = Math.Pow(Math.Abs(b - c) - 1, 2) / n;
        return new TestResult("mcnemar-chi2", chi2, ChiSquare1Survival(chi2));
    }

    public static TestResult PairedPermutation(IReadOnlyList<double> differences, int rounds = 10000, int seed = 1)
    {
        int n = differences.Count;
        if (n == 0)
            throw new ArgumentException("no paired differences");
        double observed = Math.Abs(differences.Average());
        const double tol = 1e-12;
        if (n <= 20)
        {
            long extreme = 0,
                total = 1L << n;
            for (long mask = 0; mask < total; mask++)
            {
                double s = 0;
                for (int i = 0; i < n; i++)
                    s += (mask >> i & 1) == 1 ? -differences[i] : differences[i];
                if (Math.Abs(s / n) >= observed - tol)
                    extreme++;
            }
            return new TestResult("permutation-exact", differences.Average(), (double)extreme / total);
        }
        var rng = new Random(seed);
        int count = 0;
        for (int r = 0; r < rounds; r++)
        {
            double s = 0;
            for (int i = 0; i < n; i++)
                s += rng.Next(2) == 0 ? differences[i] : -differences[i];
            if (Math.Abs(s / n) >= observed - tol)
                count++;
        }
        return new TestResult("permutation", differences.Average(), (1.0 + count) / (rounds + 1));
    }

    public static TestResult SignFlip(IReadOnlyList<double> differences)
    {
        var nonzero = differences.Where(d => d != 0).ToList();
        if (nonzero.Count == 0)
            return new TestResult("sign-flip", 0, 1);
        if (nonzero.Count <= 20)
            return PairedPermutation(nonzero) with { Test = "sign-flip-exact" };
        double sum = nonzero.Sum(),
            sq = nonzero.Sum(d => d * d);
        double z = sum / Math.Sqrt(sq);
        return new TestResult("sign-flip-normal", z, Erfc(Math.Abs(z) / Math.Sqrt(2)));
    }

    public static (TestResult Test, double Low, double High) PairedBootstrap(
        IReadOnlyList<double> differences,
        int rounds = 10000,
        int seed = 1,
        double confidence = 0.95
    )
    {
        int n = differences.Count;
        if (n == 0)
            throw new ArgumentException("no paired differences");
        var rng = new Random(seed);
        var means = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            double s = 0;
            for (int i = 0; i < n; i++)
                s += differences[rng.Next(n)];
            means[r] = s / n;
        }
        Array.Sort(means);
        double mean = differences.Average();
        int below = means.Count(m => m <= 0),
            above = means.Count(m => m >= 0);
        double p = Math.Min(1, 2.0 * (Math.Min(below, above) + 1) / (rounds + 1));
        double alpha = (1 - confidence) / 2;
        return (
            new TestResult("bootstrap", mean, p),
            means[(int)(alpha * (rounds - 1))],
            means[(int)((1 - alpha) * (rounds - 1))]
        );
    }

    /// <summary>P(χ²₁ ≥ x) = erfc(√(x/2)).</summary>
    public static double ChiSquare1Survival(double x) => x <= 0 ? 1 : Erfc(Math.Sqrt(x / 2));

    /// <summary>Complementary error function (Numerical Recipes' Chebyshev fit, relative error &lt; 1.2e−7).</summary>
    public static double Erfc(double x)
    {
        double z = Math.Abs(x),
            t = 1 / (1 + 0.5 * z);
        double r =
            t
            * Math.Exp(
                -z * z
                    - 1.26551223
                    + t
                        * (
                            1.00002368
                            + t
                                * (
                                    0.37409196
                                    + t
                                        * (
                                            0.09678418
                                            + t
                                                * (
                                                    -0.18628806
                                                    + t
                                                        * (
                                                            0.27886807
                                                            + t
                                                                * (
                                                                    -1.13520398
                                                                    + t
                                                                        * (
                                                                            1.48851587
                                                                            + t * (-0.82215223 + t * 0.17087277)
                                                                        )
                                                                )
                                                        )
                                                )
                                        )
                                )
                        )
            );
        return x >= 0 ? r : 2 - r;
    }

    private static double LogChoose(int n, int k)
    {
        double s = 0;
        for (int i = 1; i <= k; i++)
            s += Math.Log(n - k + i) - Math.Log(i);
        return s;
    }
}
