using FaceDistill.Evaluation;

namespace FaceDistill.Tests;

public class VerificationTests
{
    [Fact]
    public void PerfectlySeparableScoresGiveFullAccuracyAucOneEerZero()
    {
        var scores = new List<double>();
        var same = new List<bool>();
        var folds = new List<int>();
        for (int f = 0; f < 10; f++)
        for (int i = 0; i < 20; i++)
        {
            scores.Add(0.6 + 0.01 * i);
            same.Add(true);
            folds.Add(f);
            scores.Add(0.1 + 0.01 * i);
            same.Add(false);
            folds.Add(f);
        }
        var r = Verification.Evaluate(scores, same, folds);
        Assert.Equal(1.0, r.Accuracy, 9);
        Assert.Equal(0.0, r.AccuracyStd, 9);
        Assert.Equal(1.0, r.Auc, 9);
        Assert.Equal(0.0, r.Eer, 9);
        Assert.Equal(1.0, r.TarAtFar[0.01], 9);
        Assert.All(r.FoldThresholds, t => Assert.InRange(t, 0.29, 0.6));
    }

    [Fact]
    public void KnownSmallCase()
    {
        // positives 0.9 0.8 0.4, negatives 0.7 0.3 0.2: one inversion out of 9 pairs → AUC = 8/9
        double[] s = [0.9, 0.8, 0.4, 0.7, 0.3, 0.2];
        bool[] y = [true, true, true, false, false, false];
        var roc = Verification.Roc(s, y);
        Assert.Equal(8.0 / 9, Verification.Auc(roc), 9);
        // best single threshold: between 0.3 and 0.4 → 5/6 correct
        double t = Verification.BestThreshold(s, y);
        Assert.InRange(t, 0.3, 0.4);
        Assert.Equal(1.0 / 3, Verification.Eer(roc), 9);
        // FAR ≤ 1/3 allows one false accept: threshold at 0.3 → TAR 1
        Assert.Equal(1.0, Verification.TarAtFar(s, y, 1.0 / 3 + 1e-9), 9);
        // FAR 0 → threshold 0.7 → TAR 2/3
        Assert.Equal(2.0 / 3, Verification.TarAtFar(s, y, 0.0), 9);
    }

    [Fact]
    public void ThresholdIsChosenOnTheOtherFolds()
    {
        // fold 0's pairs would need threshold 0.5, all other folds 0.15: fold 0 is judged with the others' threshold
        var s = new List<double>();
        var y = new List<bool>();
        var f = new List<int>();
        for (int k = 0; k < 4; k++)
        {
            double hi = k == 0 ? 0.6 : 0.2,
                lo = k == 0 ? 0.4 : 0.1;
            for (int i = 0; i < 5; i++)
            {
                s.Add(hi);
                y.Add(true);
                f.Add(k);
                s.Add(lo);
                y.Add(false);
                f.Add(k);
            }
        }
        var r = Verification.Evaluate(s, y, f);
        Assert.Equal(0.5, r.FoldAccuracies[0], 9); // negatives at 0.4 exceed the others' threshold
        Assert.Equal(1.0, r.FoldAccuracies[1], 9);
        Assert.Equal(0.875, r.Accuracy, 9);
    }

    [Fact]
    public void TarAtFarIsOnlyReportedWhenEnoughNegatives()
    {
        var s = Enumerable.Range(0, 40).Select(i => i / 40.0).ToArray();
        var y = s.Select((_, i) => i % 2 == 0).ToArray();
        var r = Verification.Evaluate(s, y, Enumerable.Repeat(0, 40).ToArray());
        Assert.True(r.TarAtFar.ContainsKey(0.1));
        Assert.False(r.TarAtFar.ContainsKey(0.01)); // 20 negatives cannot resolve FAR 1e-2
    }

    [Fact]
    public void NanScoresAreRejected() =>
        Assert.Contains(
            "1 of 2 pair scores",
            Assert
                .Throws<FaceDistill.Core.FaceDistillException>(() =>
                    Verification.Evaluate([double.NaN, 0.1], [true, false], [0, 0])
                )
                .Message
        );

    [Fact]
    public void ClassificationConfusionAndRegressionMae()
    {
        var c = Metrics.Classification([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0], 3);
        Assert.Equal(4.0 / 6, c.Accuracy, 9);
        Assert.Equal(1, c.Confusion[0, 1]);
        Assert.Equal(1, c.Confusion[2, 0]);
        Assert.Equal((0.5 + 1 + 2.0 / 3) / 3, c.BalancedAccuracy, 9);
        var r = Metrics.Regression([10, 20, 30], [12, 20, 27]);
        Assert.Equal(5.0 / 3, r.Mae, 9);
    }
}
