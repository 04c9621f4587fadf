using FaceDistill.Data;
using FaceDistill.Models;

namespace FaceDistill.Evaluation;

/// <summary>One evaluation outcome, flat metrics for tables and metrics.csv plus the full result object.</summary>
public sealed record EvalReport(string Protocol, IReadOnlyDictionary<string, double> Metrics, object Detail);

/// <summary>The protocols shared by training runs, experiments and <c>facedistill eval</c>.</summary>
public static class Evaluator
{
    /// <summary>Verification on <paramref name="view"/> of the pair images (clean by default); with
    /// <paramref name="oneSide"/>, the first image of every pair is clean and the second one in the view (e.g. a masked
    /// probe against a clean gallery photo).</summary>
    public static EvalReport Verify(
        Backbone backbone,
        PairList pairs,
        double centerCrop,
        bool flip,
        int batchSize,
        IProgress<int>? progress = null,
        FaceView? view = null,
        bool oneSide = false
    ) =>
        Verify(
            (v, pr) => Embedder.Embed(backbone, pairs.Images, centerCrop, flip, batchSize, pr, v),
            pairs,
            progress,
            view,
            oneSide
        );

    /// <summary>Verification with any embedding function of a view (a backbone, a teacher).</summary>
    public static EvalReport Verify(
        Func<FaceView, IProgress<int>?, float[][]> embed,
        PairList pairs,
        IProgress<int>? progress = null,
        FaceView? view = null,
        bool oneSide = false
    )
    {
        view ??= FaceView.Clean;
        var emb = embed(view, progress);
        var first = oneSide && view.Name != FaceView.Clean.Name ? embed(FaceView.Clean, null) : emb;
        var scores = pairs.Pairs.Select(p => Embedder.Cosine(first[p.A], emb[p.B])).ToArray();
        return Verification.Report(scores, pairs);
    }

    public static EvalReport Classify(
        FaceModel model,
        IFaceDataset data,
        FaceTask task,
        double centerCrop,
        int batchSize,
        IProgress<int>? progress = null,
        FaceView? view = null
    )
    {
        var outputs = Embedder.Predict(model, data, centerCrop, batchSize, progress, view);
        return Classify(outputs, data, task);
    }

    /// <summary>Accuracy and balanced accuracy of per-image class scores (<paramref name="outputs"/>, the argmax is
    /// the prediction) on the images with a label for <paramref name="task"/>.</summary>
    public static EvalReport Classify(float[][] outputs, IFaceDataset data, FaceTask task)
    {
        var idx = Enumerable.Range(0, data.Count).Where(i => task.ClassLabel(data.Labels(i)) >= 0).ToArray();
        var truth = idx.Select(i => task.ClassLabel(data.Labels(i))).ToArray();
        var pred = idx.Select(i => ArgMax(outputs[i])).ToArray();
        var r = Metrics.Classification(truth, pred, Math.Max(data.ClassCount(task), outputs[0].Length));
        return new EvalReport(
            "classification",
            new Dictionary<string, double> { ["acc"] = r.Accuracy, ["balanced_acc"] = r.BalancedAccuracy },
            r
        );
    }

    public static EvalReport Regress(
        FaceModel model,
        IFaceDataset data,
        double centerCrop,
        int batchSize,
        IProgress<int>? progress = null,
        FaceView? view = null
    )
    {
        var outputs = Embedder.Predict(model, data, centerCrop, batchSize, progress, view);
        var idx = Enumerable.Range(0, data.Count).Where(i => !float.IsNaN(data.Labels(i).Age)).ToArray();
        var r = Metrics.Regression(
            idx.Select(i => (double)data.Labels(i).Age).ToArray(),
            idx.Select(i => (double)outputs[i][0]).ToArray()
        );
        return new EvalReport("regression", new Dictionary<string, double> { ["mae"] = r.Mae, ["rmse"] = r.Rmse }, r);
    }

    public static int ArgMax(float[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++)
            if (v[i] > v[best])
                best = i;
        return best;
    }
}
