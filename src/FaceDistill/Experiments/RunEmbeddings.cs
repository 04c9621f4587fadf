using FaceDistill.Data;
using FaceDistill.Distillation.Teachers;
using FaceDistill.Evaluation;
using FaceDistill.Runs;

namespace FaceDistill.Experiments;

/// <summary>
/// A model's embeddings of an experiment's pair images in a view, read from <see cref="EmbeddingCache"/> when the same
/// model has embedded the same images in the same view with the same settings before: a run evaluated on several views,
/// and then combined with other runs (<see cref="Combination"/>), embeds each view once.
/// </summary>
public static class RunEmbeddings
{
    /// <summary>The trained run's embedding function (its backbone, crop, flip and batch size), cached under
    /// <paramref name="dir"/> (none: always computed).</summary>
    public static Func<FaceView, IProgress<int>?, float[][]> Of(
        TrainedRun run,
        string runDir,
        PairList pairs,
        string? dir
    )
    {
        var c = run.Config;
        return Cached(
            dir,
            TeacherFactory.Fingerprint(runDir),
            pairs,
            $"run|{run.Model.Backbone.InputSize}|{run.Data.EvalCenterCrop}|{c.Eval.Flip}",
            c.Eval.Landmarks,
            (v, pr) =>
                Embedder.Embed(
                    run.Model.Backbone,
                    pairs.Images,
                    run.Data.EvalCenterCrop,
                    c.Eval.Flip,
                    c.Eval.BatchSize,
                    pr,
                    v
                )
        );
    }

    /// <summary>An embedding function of a view, read from <see cref="EmbeddingCache"/> when the same model
    /// (<paramref name="model"/>: its fingerprint) has embedded the same images in the same view with the same
    /// <paramref name="settings"/> and landmarks before (no cache directory: always computed).</summary>
    public static Func<FaceView, IProgress<int>?, float[][]> Cached(
        string? dir,
        string model,
        PairList pairs,
        string settings,
        string? landmarks,
        Func<FaceView, IProgress<int>?, float[][]> embed
    )
    {
        if (dir is null)
            return embed;
        string marks =
            landmarks is not null && File.Exists(landmarks)
                ? $"{landmarks}:{new FileInfo(landmarks).Length}:{new FileInfo(landmarks).LastWriteTimeUtc.Ticks}"
                : landmarks ?? "";
        return (v, pr) =>
            EmbeddingCache.GetOrCompute(
                dir,
                DatasetFingerprint.Of(pairs.Images, 32, model, settings, marks, v.Name),
                () => embed(v, pr)
            );
    }
}
