namespace FaceDistill.Evaluation;

public sealed record ClassificationResult(double Accuracy, int[,] Confusion, bool[] Correct)
{
    public int Classes => Confusion.GetLength(0);

    /// <summary>Mean of the per-class recalls (robust to class imbalance, e.g. FER2013's "disgust").</summary>
    public double BalancedAccuracy
    {
        get
        {
            double sum = 0;
            int n = 0;
            for (int i = 0; i < Classes; i++)
            {
                int row = 0;
                for (int j = 0; j < Classes; j++)
                    row += Confusion[i, j];
                if (row > 0)
                {
                    sum += (double)Confusion[i, i] / row;
                    n++;
                }
            }
            return n == 0 ? 0 : sum / n;
        }
    }
}

public sealed record RegressionResult(double Mae, double Rmse, double[] AbsoluteErrors);

/// <summary>Classification accuracy with a confusion matrix (rows = truth, columns = prediction); regression
/// MAE.</summary>
public static class Metrics
{
    public static ClassificationResult Classification(
        IReadOnlyList<int> truth,
        IReadOnlyList<int> predicted,
        int classes
    )
    {
        if (truth.Count != predicted.Count || truth.Count == 0)
            throw new ArgumentException("truth and predictions must have the same, positive length");
        var cm = new int[classes, classes];
        var correct = new bool[truth.Count];
        for (int i = 0; i < truth.Count; i++)
        {
            if (truth[i] < 0 || truth[i] >= classes || predicted[i] < 0 || predicted[i] >= classes)
                throw new ArgumentOutOfRangeException(nameof(truth), $"label out of range at {i}");
            cm[truth[i], predicted[i]]++;
            correct[i] = truth[i] == predicted[i];
        }
        return new ClassificationResult(correct.Count(c => c) / (double)truth.Count, cm, correct);
    }

    public static RegressionResult Regression(IReadOnlyList<double> truth, IReadOnlyList<double> predicted)
    {
        if (truth.Count != predicted.Count || truth.Count == 0)
            throw new ArgumentException("truth and predictions must have the same, positive length");
        var err = truth.Select((t, i) => Math.Abs(t - predicted[i])).ToArray();
        return new RegressionResult(err.Average(), Math.Sqrt(err.Average(e => e * e)), err);
    }
}
