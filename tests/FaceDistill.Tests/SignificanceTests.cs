using FaceDistill.Evaluation;

namespace FaceDistill.Tests;

public class SignificanceTests
{
    private static (bool[] A, bool[] B) Outcomes(int both, int onlyA, int onlyB, int neither)
    {
        var a = new List<bool>();
        var b = new List<bool>();
        void Add(int n, bool x, bool y)
        {
            for (int i = 0; i < n; i++)
            {
                a.Add(x);
                b.Add(y);
            }
        }
        Add(both, true, true);
        Add(onlyA, true, false);
        Add(onlyB, false, true);
        Add(neither, false, false);
        return (a.ToArray(), b.ToArray());
    }

    [Fact]
    public void McNemarExactMatchesTheBinomialTail()
    {
        var (a, b) = Outcomes(50, 0, 6, 10); // b = 0, c = 6: p = 2 · 2^−6
        Assert.Equal(2.0 / 64, Significance.McNemar(a, b).PValue, 10);
        (a, b) = Outcomes(50, 2, 8, 10); // p = 2 · (1 + 10 + 45) / 1024
        Assert.Equal(2.0 * 56 / 1024, Significance.McNemar(a, b).PValue, 10);
        (a, b) = Outcomes(50, 5, 5, 10);
        Assert.Equal(1.0, Significance.McNemar(a, b).PValue, 10);
    }

    [Fact]
    public void McNemarChiSquareForManyDiscordantPairs()
    {
        var (a, b) = Outcomes(100, 40, 20, 5); // χ² = (|40 − 20| − 1)² / 60 = 6.0167, p = 0.01418
        var r = Significance.McNemar(a, b);
        Assert.Equal("mcnemar-chi2", r.Test);
        Assert.Equal(361.0 / 60, r.Statistic, 9);
        Assert.Equal(0.014177, r.PValue, 4);
        Assert.Equal(0.0455, Significance.ChiSquare1Survival(4.0), 4);
        Assert.Equal(0.05, Significance.ChiSquare1Survival(3.841459), 5);
    }

    [Fact]
    public void SignFlipOnZeroOneDifferencesIsMcNemarWithoutContinuityCorrection()
    {
        // 40 items for B, 20 for A, 40 ties: z² = (40 − 20)² / 60, p = P(χ²₁ ≥ 6.667) = 0.009823
        var d = Enumerable.Repeat(1.0, 40).Concat(Enumerable.Repeat(-1.0, 20)).Concat(new double[40]).ToArray();
        var r = Significance.SignFlip(d);
        Assert.Equal("sign-flip-normal", r.Test);
        Assert.Equal(400.0 / 60, r.Statistic * r.Statistic, 9);
        Assert.Equal(Significance.ChiSquare1Survival(400.0 / 60), r.PValue, 9);
        Assert.Equal(0.009823, r.PValue, 5);
        // few nonzero differences: exact; ties drop out; half-differences (two seeds that disagree) weigh half
        Assert.Equal(2.0 / 1024, Significance.SignFlip([.. Enumerable.Repeat(1.0, 10), 0, 0, 0]).PValue, 12);
        Assert.Equal(0.24365234375, Significance.SignFlip([.. Enumerable.Repeat(0.5, 10), -1, -1]).PValue, 12);
        Assert.Equal(1.0, Significance.SignFlip([0, 0]).PValue);
    }

    [Fact]
    public void PermutationTestExactAndMonteCarlo()
    {
        // ten equal positive differences: only all-plus and all-minus are as extreme → p = 2 / 1024
        Assert.Equal(2.0 / 1024, Significance.PairedPermutation(Enumerable.Repeat(1.0, 10).ToArray()).PValue, 12);
        // symmetric differences: nothing to see
        Assert.Equal(1.0, Significance.PairedPermutation([1, -1, 2, -2]).PValue, 12);
        // 40 clearly positive differences (Monte Carlo path): tiny p; 40 noise differences: large p
        var strong = Enumerable.Range(0, 40).Select(i => 1.0 + 0.1 * (i % 3)).ToArray();
        Assert.True(Significance.PairedPermutation(strong).PValue < 0.001);
        var noise = Enumerable.Range(0, 40).Select(i => i % 2 == 0 ? 1.0 : -1.0).ToArray();
        Assert.True(Significance.PairedPermutation(noise).PValue > 0.5);
    }

    [Fact]
    public void BootstrapIntervalCoversTheMeanAndGivesSmallPForAClearShift()
    {
        var d = Enumerable.Range(0, 200).Select(i => 0.5 + Math.Sin(i)).ToArray(); // mean ≈ 0.5
        var (test, lo, hi) = Significance.PairedBootstrap(d);
        Assert.InRange(d.Average(), lo, hi);
        Assert.True(lo > 0.3 && hi < 0.7);
        Assert.True(test.PValue < 0.001);
        var zero = Enumerable.Range(0, 200).Select(i => Math.Sin(i)).ToArray();
        Assert.True(Significance.PairedBootstrap(zero).Test.PValue > 0.05);
    }
}

public class ComparisonTests
{
    private static EvalReport Verif(bool[] correct) =>
        new(
            "verification",
            new Dictionary<string, double>(),
            new VerificationResult
            {
                Accuracy = correct.Count(c => c) / (double)correct.Length,
                AccuracyStd = 0,
                FoldAccuracies = [],
                FoldThresholds = [],
                Auc = 0,
                Eer = 0,
                TarAtFar = new Dictionary<double, double>(),
                Roc = [],
                Correct = correct,
            }
        );

    [Fact]
    public void RowsCarryMcNemarAgainstTheBaselineAndRejectUnpairedResults()
    {
        var baseline = Enumerable.Range(0, 20).Select(i => i < 10).ToArray();
        var better = Enumerable.Range(0, 20).Select(i => i < 16).ToArray(); // b = 0, c = 6 → p = 2/64
        var rows = Comparison.Against([("base", Verif(baseline)), ("better", Verif(better))]);
        Assert.Null(rows[0].PValue);
        Assert.Equal(0.8, rows[1].Value, 9);
        Assert.Equal(2.0 / 64, rows[1].PValue!.Value, 9);
        Assert.Contains("| better | acc | 80.00 % | 0.031 | mcnemar-exact |", Comparison.Markdown(rows));
        Assert.Throws<ArgumentException>(() =>
            Comparison.Against([("base", Verif(baseline)), ("short", Verif([true]))])
        );
    }

    [Fact]
    public void RegressionComparisonUsesPermutationOnAbsoluteErrors()
    {
        EvalReport Reg(double[] err) =>
            new("regression", new Dictionary<string, double>(), new RegressionResult(err.Average(), 0, err));
        var rows = Comparison.Against([
            ("base", Reg(Enumerable.Repeat(5.0, 10).ToArray())),
            ("better", Reg(Enumerable.Repeat(4.0, 10).ToArray())),
        ]);
        Assert.Equal("permutation-exact", rows[1].Test);
        Assert.Equal(2.0 / 1024, rows[1].PValue!.Value, 12);
    }
}
