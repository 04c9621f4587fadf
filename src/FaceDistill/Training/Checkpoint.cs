using System.Text.Json;
using FaceDistill.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Training;

/// <summary>Trainer state beside the weights: where training stands and the best metric so far.</summary>
/// <param name="TrainSeconds">training time of the steps up to this checkpoint, over every session that made them (a
/// resumed run reports the time of the whole run, not of its last session)</param>
/// <param name="Threads">libtorch's intra-op threads of the run: a resumed run uses the same (results are bit-identical
/// only at a fixed thread count)</param>
/// <param name="LastLoss">the loss of the last step; null before the first (no non-finite number reaches JSON)</param>
/// <param name="OneDnn">the convolution path of the run (<see cref="ConvolutionPath"/>): a resumed run takes the same;
/// null in checkpoints written before it was recorded</param>
/// <param name="ChannelsLast">whether the run's convolutions were laid out channels-last (<see
/// cref="Models.MemoryFormat"/>): a resumed run takes the same; null (NCHW) in checkpoints written before</param>
public sealed record CheckpointState(
    long Step,
    int Epoch,
    double? LastLoss,
    string ConfigHash,
    DateTime SavedUtc,
    double TrainSeconds = 0,
    int Threads = 0,
    bool? OneDnn = null,
    bool? ChannelsLast = null
);

/// <summary>Checkpoints: <c>checkpoints/step-000123/</c> with <c>model.bin</c> (TorchSharp weights and buffers),
/// <c>optim.bin</c> (optimizer state: momentum / Adam moments) and <c>state.json</c>. A checkpoint directory is built
/// under a temporary name and renamed into place, and <c>checkpoints/latest</c> is rewritten atomically after it, so a
/// run killed at any moment resumes from a complete checkpoint. Only the newest <c>keep</c> checkpoints are kept.
/// </summary>
public static class Checkpoint
{
    /// <summary>The SHA-256 of every file of a checkpoint, written with it and checked whenever it is loaded.</summary>
    public const string ManifestFile = "sha256.json";

    private static string Sha256(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(f)).ToLowerInvariant();
    }

    /// <summary>Checks the files of a checkpoint against its manifest: a file changed since it was written (a flipped
    /// block, a truncated copy) is an error naming it. Checkpoints written before manifests existed pass
    /// unchecked.</summary>
    public static void CheckIntegrity(string dir)
    {
        var manifest = Path.Combine(dir, ManifestFile);
        if (!File.Exists(manifest))
            return;
        Dictionary<string, string>? sums;
        try
        {
            sums = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(manifest));
        }
        catch (JsonException)
        {
            sums = null;
        }
        if (sums is null)
            throw FaceDistillException.ForFile(manifest, "unreadable checkpoint manifest");
        foreach (var (file, sum) in sums)
        {
            var path = Path.Combine(dir, file);
            if (!File.Exists(path))
                throw FaceDistillException.ForFile(path, "missing from its checkpoint");
            if (Sha256(path) != sum)
                throw FaceDistillException.ForFile(
                    path,
                    "changed since the checkpoint was written (SHA-256 differs): the file is damaged"
                );
        }
    }

    /// <summary>Writes the manifest of a checkpoint folder: the SHA-256 of each of its files (also after a deliberate
    /// edit, e.g. a test that rewrites state.json).</summary>
    public static void WriteManifest(string dir)
    {
        var sums = Directory
            .GetFiles(dir)
            .Where(f => Path.GetFileName(f) != ManifestFile)
            .Order(StringComparer.Ordinal)
            .ToDictionary(f => Path.GetFileName(f), Sha256);
        File.WriteAllText(Path.Combine(dir, ManifestFile), JsonSerializer.Serialize(sums));
    }

    public static string Save(
        string checkpointDir,
        nn.Module model,
        optim.Optimizer? optimizer,
        CheckpointState state,
        int keep,
        IReadOnlyList<TorchSharp.Modules.Parameter>? extra = null
    )
    {
        var dir = Path.Combine(checkpointDir, $"step-{state.Step:D7}");
        try
        {
            AtomicFile.WriteDirectory(
                dir,
                tmp =>
                {
                    model.save(Path.Combine(tmp, "model.bin"));
                    if (extra is { Count: > 0 })
                        SaveTensors(Path.Combine(tmp, "terms.bin"), extra);
                    ((TorchSharp.Modules.OptimizerHelper?)optimizer)?.save_state_dict(Path.Combine(tmp, "optim.bin"));
                    File.WriteAllText(Path.Combine(tmp, "state.json"), JsonSerializer.Serialize(state));
                    WriteManifest(tmp);
                }
            );
            AtomicFile.WriteAllText(Path.Combine(checkpointDir, "latest"), Path.GetFileName(dir));
        }
        catch (IOException e)
        {
            // a full disk, a quota, a folder gone: the half-written folder is already removed by WriteDirectory
            var kept = Latest(checkpointDir);
            var reason = e.Message.Split(" : '")[0].Trim();
            throw FaceDistillException.ForFile(
                dir,
                $"the checkpoint cannot be written ({reason}); "
                    + (kept is null ? "no earlier checkpoint is kept" : $"{Path.GetFileName(kept)} is intact")
                    + "; make room and resume the run"
            );
        }
        foreach (
            var old in Directory
                .GetDirectories(checkpointDir, "step-*")
                .OrderByDescending(d => d, StringComparer.Ordinal)
                .Skip(keep)
        )
            Directory.Delete(old, recursive: true);
        return dir;
    }

    /// <summary>Removes the half-written checkpoint folders (<c>.step-NNNNNNN.&lt;guid&gt;.tmp</c>) a process killed
    /// while writing one leaves behind; called when a run resumes (its one writer). Returns how many it removed.
    /// </summary>
    public static int RemoveUnfinished(string checkpointDir)
    {
        if (!Directory.Exists(checkpointDir))
            return 0;
        int removed = 0;
        foreach (var dir in Directory.GetDirectories(checkpointDir, ".step-*.tmp"))
        {
            Directory.Delete(dir, recursive: true);
            removed++;
        }
        return removed;
    }

    /// <summary>The newest checkpoint: the one <c>latest</c> names, or — when that pointer is gone — the highest
    /// complete <c>step-*</c> folder (weights and state present); null when there is none.</summary>
    public static string? Latest(string checkpointDir)
    {
        var pointer = Path.Combine(checkpointDir, "latest");
        if (!File.Exists(pointer))
            return NewestComplete(checkpointDir);
        var dir = Path.Combine(checkpointDir, File.ReadAllText(pointer).Trim());
        return Directory.Exists(dir)
            ? dir
            : throw FaceDistillException.ForFile(pointer, $"points to a missing checkpoint {dir}");
    }

    private static string? NewestComplete(string checkpointDir)
    {
        if (!Directory.Exists(checkpointDir))
            return null;
        var newest = Directory
            .GetDirectories(checkpointDir, "step-*")
            .Order(StringComparer.Ordinal)
            .Reverse()
            .FirstOrDefault(d =>
                File.Exists(Path.Combine(d, "model.bin")) && File.Exists(Path.Combine(d, "state.json"))
            );
        if (newest is not null)
            Log.Info(
                $"{Path.Combine(checkpointDir, "latest")} is missing: using the newest complete checkpoint, {newest}"
            );
        return newest;
    }

    public static CheckpointState LoadState(string dir)
    {
        var path = Path.Combine(dir, "state.json");
        try
        {
            return JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(path))
                ?? throw FaceDistillException.ForFile(path, "empty checkpoint state");
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            throw FaceDistillException.ForFile(path, $"unreadable checkpoint state ({e.Message})");
        }
    }

    /// <summary>Loads weights (and optimizer state when given) from a checkpoint directory or a model.bin
    /// file.</summary>
    public static void LoadWeights(string pathOrDir, nn.Module model, optim.Optimizer? optimizer = null)
    {
        var modelPath = Directory.Exists(pathOrDir) ? Path.Combine(pathOrDir, "model.bin") : pathOrDir;
        if (!File.Exists(modelPath))
            throw FaceDistillException.ForFile(modelPath, "checkpoint weights not found");
        CheckIntegrity(Path.GetDirectoryName(Path.GetFullPath(modelPath))!);
        try
        {
            model.load(modelPath, strict: true);
        }
        catch (Exception e) when (e is not FaceDistillException)
        {
            throw FaceDistillException.ForFile(
                modelPath,
                $"weights do not fit this model or the file is damaged ({FirstLine(e.Message)})"
            );
        }
        if (optimizer is null)
            return;
        var optPath = Path.Combine(Path.GetDirectoryName(modelPath)!, "optim.bin");
        if (!File.Exists(optPath))
            throw FaceDistillException.ForFile(optPath, "optimizer state not found");
        try
        {
            ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(optPath);
        }
        catch (Exception e)
        {
            throw FaceDistillException.ForFile(optPath, $"optimizer state is damaged ({FirstLine(e.Message)})");
        }
    }

    /// <summary>Parameters owned by objective terms (e.g. a feature-KD projection): count, then per tensor its length
    /// and float32 values.</summary>
    private static void SaveTensors(string path, IReadOnlyList<TorchSharp.Modules.Parameter> tensors)
    {
        using var w = new BinaryWriter(File.Create(path));
        w.Write(tensors.Count);
        foreach (var t in tensors)
        {
            var v = t.detach().cpu().contiguous().data<float>().ToArray();
            w.Write(v.Length);
            foreach (var x in v)
                w.Write(x);
        }
    }

    /// <summary>Restores the objective terms' parameters saved with a checkpoint.</summary>
    public static void LoadTerms(string checkpointDir, IReadOnlyList<TorchSharp.Modules.Parameter> tensors)
    {
        if (tensors.Count == 0)
            return;
        var path = Path.Combine(checkpointDir, "terms.bin");
        if (!File.Exists(path))
            throw FaceDistillException.ForFile(path, "the checkpoint has no parameters for the objective's terms");
        try
        {
            using var r = new BinaryReader(File.OpenRead(path));
            if (r.ReadInt32() != tensors.Count)
                throw FaceDistillException.ForFile(path, "holds parameters for a different set of objective terms");
            using var _ = no_grad();
            foreach (var t in tensors)
            {
                int n = r.ReadInt32();
                if (n != t.numel())
                    throw FaceDistillException.ForFile(
                        path,
                        $"a term parameter has {n} values, the term expects {t.numel()}"
                    );
                var v = new float[n];
                for (int i = 0; i < n; i++)
                    v[i] = r.ReadSingle();
                using var src = tensor(v, t.shape);
                t.copy_(src);
            }
        }
        catch (EndOfStreamException)
        {
            throw FaceDistillException.ForFile(path, "truncated");
        }
    }

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();
}
