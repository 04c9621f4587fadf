using FaceDistill.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Evaluation;

/// <summary>Georgescu et al.'s combination of students: the embeddings of models distilled in different ways (e.g.
/// teacher–student KD and triplet-loss KD, optionally the fine-tuned model) are concatenated, and a linear model is
/// trained on them — multinomial logistic regression for classes, ridge regression for age; for verification the
/// concatenation of the unit-length embeddings is compared by cosine. Each model's block is standardised with the
/// training set's mean and standard deviation, then divided by √(its width), so every model weighs the same whatever
/// its embedding size.
/// <code>
///   logistic:  min_W,b  −(1/N)·Σ_i log softmax(W·x_i + b)[y_i] + (γ/2)·‖W‖²     (full-batch Adam, 300 steps)
///   ridge:     w = (XᵀX + γ·I)⁻¹ Xᵀ(y − ȳ) on centred features, b = ȳ
/// </code>
/// </summary>
public static class EmbeddingCombination
{
    /// <summary>Concatenates per-model feature blocks <c>[model][item][dim]</c>, standardised by the training blocks'
    /// statistics.</summary>
    public static (float[][] Train, float[][] Test) Concatenate(
        IReadOnlyList<float[][]> trainBlocks,
        IReadOnlyList<float[][]> testBlocks
    )
    {
        int n = trainBlocks[0].Length,
            m = testBlocks[0].Length;
        var train = new List<float>[n];
        var test = new List<float>[m];
        for (int i = 0; i < n; i++)
            train[i] = [];
        for (int i = 0; i < m; i++)
            test[i] = [];
        for (int b = 0; b < trainBlocks.Count; b++)
        {
            int d = trainBlocks[b][0].Length;
            for (int j = 0; j < d; j++)
            {
                double mean = 0,
                    sq = 0;
                for (int i = 0; i < n; i++)
                    mean += trainBlocks[b][i][j];
                mean /= n;
                for (int i = 0; i < n; i++)
                    sq += Math.Pow(trainBlocks[b][i][j] - mean, 2);
                double scale = 1 / (Math.Sqrt(sq / Math.Max(1, n - 1)) + 1e-6) / Math.Sqrt(d);
                for (int i = 0; i < n; i++)
                    train[i].Add((float)((trainBlocks[b][i][j] - mean) * scale));
                for (int i = 0; i < m; i++)
                    test[i].Add((float)((testBlocks[b][i][j] - mean) * scale));
            }
        }
        return (train.Select(l => l.ToArray()).ToArray(), test.Select(l => l.ToArray()).ToArray());
    }

    /// <summary>Multinomial logistic regression; returns the predicted class of every test item.</summary>
    public static int[] LogisticRegression(
        float[][] trainX,
        int[] trainY,
        float[][] testX,
        int classes,
        double l2 = 1e-3,
        int iterations = 300
    )
    {
        using var scope = NewDisposeScope();
        int d = trainX[0].Length;
        var x = tensor(trainX.SelectMany(r => r).ToArray(), [trainX.Length, d]);
        var y = tensor(trainY.Select(v => (long)v).ToArray());
        var w = new TorchSharp.Modules.Parameter(zeros(d, classes));
        var b = new TorchSharp.Modules.Parameter(zeros(classes));
        var opt = optim.Adam([w, b], lr: 0.05);
        for (int it = 0; it < iterations; it++)
        {
            using var step = NewDisposeScope();
            opt.zero_grad();
            var loss = nn.functional.cross_entropy(x.matmul(w) + b, y) + 0.5 * l2 * w.pow(2).sum();
            loss.backward();
            opt.step();
        }
        using var _ = no_grad();
        var xt = tensor(testX.SelectMany(r => r).ToArray(), [testX.Length, d]);
        return (xt.matmul(w) + b).argmax(1).data<long>().Select(v => (int)v).ToArray();
    }

    /// <summary>Ridge regression; returns the prediction for every test item.</summary>
    public static double[] Ridge(float[][] trainX, double[] trainY, float[][] testX, double gamma = 1.0)
    {
        using var scope = NewDisposeScope();
        int d = trainX[0].Length;
        var x = tensor(trainX.SelectMany(r => r).ToArray(), [trainX.Length, d]).to(float64);
        double yMean = trainY.Average();
        var y = tensor(trainY.Select(v => v - yMean).ToArray()).unsqueeze(1);
        var xMean = x.mean([0], keepdim: true);
        var xc = x - xMean;
        var w = linalg.solve(xc.t().matmul(xc) + gamma * eye(d, dtype: float64), xc.t().matmul(y));
        var xt = tensor(testX.SelectMany(r => r).ToArray(), [testX.Length, d]).to(float64) - xMean;
        return (xt.matmul(w).squeeze(1) + yMean).data<double>().ToArray();
    }

    /// <summary>Each image's unit-length embeddings of every model, concatenated (one block per model): their
    /// cosine is the mean of the models' cosines.</summary>
    public static float[][] Join(IReadOnlyList<float[][]> blocks) =>
        Enumerable.Range(0, blocks[0].Length).Select(i => blocks.SelectMany(b => b[i]).ToArray()).ToArray();

    /// <summary>Verification on concatenated unit-length embeddings of the pair images (one block per model).</summary>
    public static EvalReport Verify(IReadOnlyList<float[][]> blocks, PairList pairs)
    {
        var joined = Join(blocks);
        var scores = pairs.Pairs.Select(p => Embedder.Cosine(joined[p.A], joined[p.B])).ToArray();
        return Verification.Report(scores, pairs);
    }

    public static EvalReport Classification(int[] truth, int[] predicted, int classes)
    {
        var r = Metrics.Classification(truth, predicted, classes);
        return new EvalReport(
            "classification",
            new Dictionary<string, double> { ["acc"] = r.Accuracy, ["balanced_acc"] = r.BalancedAccuracy },
            r
        );
    }

    public static EvalReport Regression(double[] truth, double[] predicted)
    {
        var r = Metrics.Regression(truth, predicted);
        return new EvalReport("regression", new Dictionary<string, double> { ["mae"] = r.Mae, ["rmse"] = r.Rmse }, r);
    }
}
