using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Evaluation;
using FaceDistill.Export;
using FaceDistill.Faces;

namespace FaceDistill.Runs;

/// <summary>Trained recognition runs exported as their combination, one ONNX graph
/// (<see cref="CombinationOnnxExport"/>): every run must be a recognition run evaluated with the same centre crop (the
/// graph's one input is cropped once). Each run's latest checkpoint. A single run's export carries the threshold its
/// final evaluation calibrated; a combination has had no evaluation of its own, so with <c>calibrate</c> it is
/// verified on the first run's pairs and view (<c>eval.pairs</c>, <c>eval.view</c> — else its training view, as in its
/// own evaluation — and <c>eval.pairSides</c>) as the graph computes it — no flip — and that threshold
/// (<see cref="Calibration"/>) goes into the file's metadata, which <c>serve</c> reads.</summary>
public static class RunCombinationExport
{
    public static (OnnxExportResult Result, Calibration? Calibration) Export(
        IReadOnlyList<string> runDirs,
        string outPath,
        bool calibrate = false
    )
    {
        var runs = new List<TrainedRun>();
        try
        {
            foreach (var dir in runDirs)
            {
                var r = TrainedRun.Load(dir);
                runs.Add(r);
                if (r.Task != FaceTask.Recognition)
                    throw FaceDistillException.ForFile(
                        dir,
                        $"a {r.Config.Task} run: only recognition runs combine into one graph (an attribute "
                            + "combination ends in a linear model fitted on the training images)"
                    );
                string crop = RunExportMetadata.CenterCrop(r),
                    first = RunExportMetadata.CenterCrop(runs[0]);
                if (crop != first)
                    throw FaceDistillException.ForFile(
                        dir,
                        $"eval.centerCrop {crop} differs from {runDirs[0]}'s {first}: the graph's one input is "
                            + "cropped once"
                    );
            }
            // the output's folder is made as `mkdir -p` would, once the runs have loaded (a refused run leaves none)
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
            var metadata = RunExportMetadata.Of(runs);
            var cal = calibrate ? Calibrate(runs, runDirs[0]) : null;
            foreach (var (k, v) in cal?.ToMetadata() ?? new Dictionary<string, string>())
                metadata[k] = v;
            return (CombinationOnnxExport.Export(runs.Select(r => r.Model).ToList(), outPath, metadata), cal);
        }
        finally
        {
            foreach (var r in runs)
                r.Dispose();
        }
    }

    /// <summary>The combination verified on the first run's pairs and view: each run's unit embeddings (its input
    /// size, the shared crop, no flip) concatenated, as the graph computes them.</summary>
    private static Calibration Calibrate(IReadOnlyList<TrainedRun> runs, string firstDir)
    {
        var first = runs[0];
        var pairs =
            first.Data.Pairs
            ?? throw FaceDistillException.ForFile(firstDir, "no verification pairs (eval.pairs) to calibrate on");
        var cfg = first.Config;
        var view = Protocols.ViewOf(cfg);
        float[][] Embed(FaceView v, IProgress<int>? _) =>
            EmbeddingCombination.Join(
                runs.Select(r =>
                    {
                        using var bar = Progress.Start(
                            $"calibrating: {RunExportMetadata.Name(r)}, {v.Name}",
                            pairs.Images.Count
                        );
                        return Embedder.Embed(
                            r.Model.Backbone,
                            pairs.Images,
                            first.Data.EvalCenterCrop,
                            false,
                            cfg.Eval.BatchSize,
                            bar.AsProgress(),
                            v
                        );
                    })
                    .ToList()
            );
        var report = Evaluator.Verify(Embed, pairs, null, view, cfg.Eval.PairSides == "one");
        var result = (VerificationResult)report.Detail!;
        string sides = view.Name == FaceView.Clean.Name ? "" : $", {cfg.Eval.PairSides} side(s)";
        return Calibration.From(result, $"the combination on {cfg.Eval.Pairs}, view {view.Name}{sides}");
    }
}
