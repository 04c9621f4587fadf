using FaceDistill.Config;
using FaceDistill.Data;
using FaceDistill.Faces;
using FaceDistill.Models;

namespace FaceDistill.Evaluation;

/// <summary>How a run is evaluated: the protocol of its task on its data, and the metric columns it logs.</summary>
public sealed record RunEvaluation(Func<FaceModel, EvalReport>? Evaluate, string[] Columns)
{
    public static readonly RunEvaluation Nothing = new(null, []);
}

/// <summary>
/// The evaluation protocol of a run, chosen once from its task and data: 10-fold verification on the pairs for
/// recognition, classification or regression on the held-out images for the attribute tasks; on the config's view
/// (<c>eval.view</c>, else <c>data.view</c>).
/// </summary>
public static class Protocols
{
    public static readonly string[] VerificationColumns =
    [
        "acc",
        "acc_std",
        "auc",
        "eer",
        .. Verification.StandardFars.Select(f => $"tar@far={f:0.###}"),
    ];

    /// <summary>The view a run is evaluated on: <c>eval.view</c>, else its training view.</summary>
    public static FaceView ViewOf(RunSettings cfg) => FaceViews.Parse(cfg.Eval.View ?? cfg.Data.View);

    public static RunEvaluation For(RunSettings cfg, FaceTask task, RunDatasets data)
    {
        int bs = cfg.Eval.BatchSize;
        double crop = data.EvalCenterCrop;
        var view = ViewOf(cfg);
        if (task == FaceTask.Recognition)
        {
            if (data.Pairs is not { } pairs)
                return RunEvaluation.Nothing;
            bool oneSide = cfg.Eval.PairSides == "one";
            return new RunEvaluation(
                m => Evaluator.Verify(m.Backbone, pairs, crop, cfg.Eval.Flip, bs, view: view, oneSide: oneSide),
                VerificationColumns
            );
        }
        if (data.Validation is not { } validation)
            return RunEvaluation.Nothing;
        if (task == FaceTask.Age)
            return new RunEvaluation(m => Evaluator.Regress(m, validation, crop, bs, view: view), ["mae", "rmse"]);
        return new RunEvaluation(
            m => Evaluator.Classify(m, validation, task, crop, bs, view: view),
            ["acc", "balanced_acc"]
        );
    }

    /// <summary>Checks, before any training, that the evaluation can run: its view applies to the first evaluation
    /// image (an occluded view needs landmarks the evaluation images may lack).</summary>
    public static void Probe(RunSettings cfg, FaceTask task, RunDatasets data)
    {
        var view = ViewOf(cfg);
        var images = task == FaceTask.Recognition ? data.Pairs?.Images : data.Validation;
        if (view.Transform is null || images is null || images.Count == 0)
            return;
        var (img, landmarks) = images.Load(0);
        var labels = images.Labels(0);
        if (landmarks is not null && labels.Landmarks is null)
            labels = labels with { Landmarks = landmarks };
        try
        {
            if (FaceViews.IsOcclusion(view) && labels.Landmarks is null)
                throw new Core.FaceDistillException("its occluders need the faces' 68 landmarks (eval.landmarks)");
            view.Transform(img, labels, new Random(0));
        }
        catch (Core.FaceDistillException e)
        {
            throw new Core.FaceDistillException(
                $"{images.Describe(0)}: the evaluation on view '{view.Name}' cannot run ({e.Message}); set eval.view"
            );
        }
    }

    /// <summary>
    /// Verification of one embedding function on several views of the same pairs. Each view of the pair images is
    /// embedded once (the clean one, which one-sided protocols pair with every other view, included): the same numbers
    /// as verifying each view alone, at a fraction of the cost. A column may name its own sides
    /// (<see cref="ViewColumn"/>: <c>occluded:mask@both</c>); the others follow <paramref name="oneSide"/>.
    /// </summary>
    public static IReadOnlyList<EvalReport> VerifyViews(
        Func<FaceView, IProgress<int>?, float[][]> embed,
        PairList pairs,
        IReadOnlyList<string> views,
        bool oneSide
    )
    {
        var memo = new Dictionary<string, float[][]>();
        float[][] Memoised(FaceView v, IProgress<int>? pr) =>
            memo.TryGetValue(v.Name, out var e) ? e : memo[v.Name] = embed(v, pr);
        return views
            .Select(ViewColumn.Parse)
            .Select(c => Evaluator.Verify(Memoised, pairs, null, c.View, c.OneSide ?? oneSide))
            .ToList();
    }
}
