using FaceDistill.Core;
using FaceDistill.Models;
using static TorchSharp.torch;

namespace FaceDistill.Runs;

/// <summary>Fine-tuning (<c>train.init</c>): a run starts from the weights of another run.</summary>
public static class FineTuning
{
    /// <summary>Copies every parameter and buffer of <paramref name="runDir"/>'s latest checkpoint whose name and shape
    /// match into <paramref name="model"/> (e.g. everything but a head over different classes).</summary>
    public static void InitFrom(string runDir, FaceModel model)
    {
        using var source = TrainedRun.Load(runDir);
        var from = source.Model.state_dict();
        int copied = 0;
        var skipped = new List<string>();
        using (no_grad())
            foreach (var (name, t) in model.state_dict())
            {
                if (from.TryGetValue(name, out var s) && s.shape.SequenceEqual(t.shape))
                {
                    t.copy_(s);
                    copied++;
                }
                else
                    skipped.Add(name);
            }
        if (copied == 0)
            throw FaceDistillException.ForFile(runDir, "no weight of that run fits this model (train.init)");
        if (skipped.Count > 0)
            Log.Info(
                $"train.init: {copied} tensors from {runDir}; {skipped.Count} kept at their initial values "
                    + $"({string.Join(", ", skipped.Take(4))}{(skipped.Count > 4 ? ", …" : "")})"
            );
    }
}
