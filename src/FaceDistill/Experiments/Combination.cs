using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Evaluation;
using FaceDistill.Faces;
using FaceDistill.Runs;

namespace FaceDistill.Experiments;

/// <summary>Georgescu et al. (2022)'s combination of students distilled in different ways: their embeddings
/// concatenated, a linear model on top (<see cref="EmbeddingCombination"/>).</summary>
public static class Combination
{
    /// <summary>Georgescu et al.'s combination of the runs' embeddings (<see cref="EmbeddingCombination"/>) on each of
    /// <paramref name="views"/> (experiment columns: <see cref="ViewColumn"/>). Verification reads each run's
    /// embeddings of a view from <paramref name="embeddingsDir"/> when the run's own evaluation put them there
    /// (<see cref="RunEmbeddings"/>): combining evaluated runs embeds nothing again.</summary>
    public static IReadOnlyList<EvalReport> Combine(
        IReadOnlyList<string> runDirs,
        IReadOnlyList<string> views,
        string? embeddingsDir = null
    )
    {
        var runs = runDirs.Select(d => TrainedRun.Load(d)).ToList();
        try
        {
            if (runs[0].Task == FaceTask.Recognition)
            {
                var pairs =
                    runs[0].Data.Pairs ?? throw FaceDistillException.ForFile(runDirs[0], "no verification pairs");
                var embed = runs.Select((r, i) => RunEmbeddings.Of(r, runDirs[i], pairs, embeddingsDir)).ToList();
                // the runs' protocol: with eval.pairSides "one", a degraded probe against a clean gallery photo
                return Protocols.VerifyViews(
                    (v, pr) => EmbeddingCombination.Join(embed.Select(e => e(v, pr)).ToList()),
                    pairs,
                    views,
                    oneSide: runs[0].Config.Eval.PairSides == "one"
                );
            }
        }
        finally
        {
            foreach (var r in runs)
                r.Dispose();
        }
        return views.Select(v => Classify(runDirs, v)).ToList();
    }

    /// <summary>The combination on the held-out images of an attribute task: a linear model on the concatenated
    /// embeddings, trained on the training images.</summary>
    private static EvalReport Classify(IReadOnlyList<string> runDirs, string view)
    {
        var runs = runDirs.Select(d => TrainedRun.Load(d, [$"eval.view={view}"])).ToList();
        try
        {
            var first = runs[0];
            var task = first.Task;
            var v = FaceViews.Parse(view);
            int bs = first.Config.Eval.BatchSize;
            double crop = first.Data.EvalCenterCrop;
            var test = first.Data.Validation ?? throw FaceDistillException.ForFile(runDirs[0], "no held-out images");
            // the linear model learns from the training images as the students saw them (their training view),
            // un-augmented
            var trainView = FaceViews.Parse(first.Config.Data.View);
            var trainBlocks = runs.Select(r =>
                    Embedder.Embed(r.Model.Backbone, r.Data.Train, r.Data.EvalCenterCrop, false, bs, view: trainView)
                )
                .ToList();
            var testBlocks = runs.Select(r => Embedder.Embed(r.Model.Backbone, test, crop, false, bs, view: v))
                .ToList();
            var (xTrain, xTest) = EmbeddingCombination.Concatenate(trainBlocks, testBlocks);
            var trainIdx = Enumerable.Range(0, first.Data.Train.Count).ToArray();
            var testIdx = Enumerable.Range(0, test.Count).ToArray();
            if (task == FaceTask.Age)
            {
                trainIdx = trainIdx.Where(i => !float.IsNaN(first.Data.Train.Labels(i).Age)).ToArray();
                testIdx = testIdx.Where(i => !float.IsNaN(test.Labels(i).Age)).ToArray();
                var pred = EmbeddingCombination.Ridge(
                    trainIdx.Select(i => xTrain[i]).ToArray(),
                    trainIdx.Select(i => (double)first.Data.Train.Labels(i).Age).ToArray(),
                    testIdx.Select(i => xTest[i]).ToArray()
                );
                return EmbeddingCombination.Regression(testIdx.Select(i => (double)test.Labels(i).Age).ToArray(), pred);
            }
            trainIdx = trainIdx.Where(i => task.ClassLabel(first.Data.Train.Labels(i)) >= 0).ToArray();
            testIdx = testIdx.Where(i => task.ClassLabel(test.Labels(i)) >= 0).ToArray();
            int classes = Math.Max(first.Data.Classes, test.ClassCount(task));
            var predicted = EmbeddingCombination.LogisticRegression(
                trainIdx.Select(i => xTrain[i]).ToArray(),
                trainIdx.Select(i => task.ClassLabel(first.Data.Train.Labels(i))).ToArray(),
                testIdx.Select(i => xTest[i]).ToArray(),
                classes
            );
            return EmbeddingCombination.Classification(
                testIdx.Select(i => task.ClassLabel(test.Labels(i))).ToArray(),
                predicted,
                classes
            );
        }
        finally
        {
            foreach (var r in runs)
                r.Dispose();
        }
    }
}
