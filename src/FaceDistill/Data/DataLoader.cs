using System.Collections.Concurrent;
using FaceDistill.Config;
using FaceDistill.Core;

namespace FaceDistill.Data;

/// <summary>What to do with an image that cannot be decoded.</summary>
public enum BadImagePolicy
{
    Skip,
    Fail,
}

/// <summary>One batch: per view, <c>Count × 3 × Size × Size</c> floats in [-1, 1]; plus labels and dataset
/// indices.</summary>
public sealed class Batch
{
    public required int Count { get; init; }
    public required int Size { get; init; }
    public required Dictionary<string, float[]> Views { get; init; }
    public required FaceLabels[] Labels { get; init; }
    public required int[] Indices { get; init; }
    public float[] Pixels => Views[FaceView.Clean.Name];

    /// <summary>The view's pixels as a tensor on the process's device (<see cref="Core.ComputeDevice"/>).</summary>
    public TorchSharp.torch.Tensor Tensor(string view = "clean") =>
        Core.ComputeDevice.OnDevice(TorchSharp.torch.tensor(Views[view], [Count, 3, Size, Size]));
}

public sealed record DataLoaderOptions
{
    public int BatchSize { get; init; } = 64;
    public int ImageSize { get; init; } = 112;
    public double CenterCrop { get; init; } = 1.0;
    public bool Shuffle { get; init; } = true;
    public bool DropLast { get; init; } = true;
    public int Seed { get; init; } = 1;

    /// <summary>Background decode/augment tasks in flight; also bounds memory (that many batches at most).</summary>
    public int Workers { get; init; } = 2;
    public AugmentOptions Augment { get; init; } = AugmentOptions.None;
    public BadImagePolicy OnBadImage { get; init; } = BadImagePolicy.Skip;
    public IReadOnlyList<FaceView> Views { get; init; } = [FaceView.Clean];

    /// <summary>The training loader of a run: shuffled, full batches, the config's augmentation and bad-image
    /// policy.</summary>
    public static DataLoaderOptions ForTraining(RunSettings cfg) =>
        new()
        {
            BatchSize = cfg.Train.BatchSize,
            ImageSize = cfg.Data.ImageSize,
            CenterCrop = cfg.Data.CenterCrop,
            Shuffle = true,
            DropLast = true,
            Seed = cfg.Train.Seed,
            Workers = cfg.Data.Workers,
            OnBadImage = cfg.Data.OnError == "fail" ? BadImagePolicy.Fail : BadImagePolicy.Skip,
            Augment = AugmentOptions.From(cfg.Data.Augment),
        };
}

/// <summary>Decodes and augments batches on background threads, a bounded number of batches ahead, and yields them in
/// a deterministic order: the permutation of epoch <c>e</c> and every random choice for sample <c>i</c> are pure
/// functions of (seed, e, i). So the same seed gives the same batches, whatever the thread timing, and a resumed run
/// can start at any batch. Undecodable images are skipped (replaced by the next good sample, counted) or fail the run,
/// by policy.</summary>
public sealed class DataLoader
{
    private readonly IFaceDataset _data;
    private readonly ConcurrentDictionary<int, string> _bad = new();

    public DataLoaderOptions Options { get; }

    public DataLoader(IFaceDataset data, DataLoaderOptions options)
    {
        if (data.Count == 0)
            throw new FaceDistillException("dataset is empty");
        if (options.BatchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), "batch size must be positive");
        _data = data;
        Options = options;
    }

    public IFaceDataset Dataset => _data;

    public int BatchesPerEpoch =>
        Options.DropLast
            ? Math.Max(1, _data.Count / Options.BatchSize)
            : (_data.Count + Options.BatchSize - 1) / Options.BatchSize;

    /// <summary>Images skipped so far because they could not be decoded (path → reason).</summary>
    public IReadOnlyDictionary<int, string> BadImages => _bad;

    public int[] Order(int epoch) =>
        Options.Shuffle
            ? Seeds.Permutation(_data.Count, Seeds.Derive(Options.Seed, epoch, 0x5EED))
            : Enumerable.Range(0, _data.Count).ToArray();

    /// <summary>The batches of one epoch from <paramref name="startBatch"/> on, prepared in the background.</summary>
    public IEnumerable<Batch> Epoch(int epoch, int startBatch = 0, CancellationToken cancel = default)
    {
        var order = Order(epoch);
        int n = BatchesPerEpoch;
        int ahead = Math.Max(1, Options.Workers);
        var pending = new Queue<Task<Batch>>();
        int next = startBatch;
        try
        {
            while (next < n && pending.Count < ahead)
            {
                int b = next++;
                pending.Enqueue(Task.Run(() => Build(order, epoch, b)));
            }
            while (pending.Count > 0)
            {
                var batch = pending.Dequeue().GetAwaiter().GetResult();
                if (next < n)
                {
                    int b = next++;
                    pending.Enqueue(Task.Run(() => Build(order, epoch, b)));
                }
                yield return batch;
            }
        }
        finally
        {
            // let the producers finish before the enumerator is gone (no work left dangling)
            foreach (var t in pending)
            {
                try
                {
                    t.Wait();
                }
                catch
                { /* surfaced on the consumer side already */
                }
            }
        }
    }

    private Batch Build(int[] order, int epoch, int b)
    {
        int start = b * Options.BatchSize;
        int count = Math.Min(Options.BatchSize, order.Length - start);
        int size = Options.ImageSize,
            per = 3 * size * size;
        var views = Options.Views.ToDictionary(v => v.Name, _ => new float[count * per]);
        var labels = new FaceLabels[count];
        var indices = new int[count];
        for (int k = 0; k < count; k++)
        {
            int idx = order[start + k];
            var (img, landmarks) = LoadOrSkip(ref idx);
            indices[k] = idx;
            labels[k] = _data.Labels(idx);
            if (landmarks is not null && labels[k].Landmarks is null)
                labels[k] = labels[k] with { Landmarks = landmarks };
            for (int v = 0; v < Options.Views.Count; v++)
            {
                var view = Options.Views[v];
                RgbImage src;
                try
                {
                    src = view.Transform is null
                        ? img
                        : view.Transform(img, labels[k], Seeds.Rng(Options.Seed, epoch, idx, 2 + v));
                }
                catch (FaceDistillException e)
                {
                    throw new FaceDistillException($"{_data.Describe(idx)}: {e.Message}");
                }
                var rng = Options.Augment.IsIdentity ? null : Seeds.Rng(Options.Seed, epoch, idx, 1);
                Augment.ToTensorData(
                    src,
                    size,
                    Options.CenterCrop,
                    Options.Augment,
                    rng,
                    views[view.Name].AsSpan(k * per, per)
                );
            }
        }
        return new Batch
        {
            Count = count,
            Size = size,
            Views = views,
            Labels = labels,
            Indices = indices,
        };
    }

    private (RgbImage Image, float[]? Landmarks) LoadOrSkip(ref int idx)
    {
        for (int tries = 0; tries < _data.Count; tries++)
        {
            try
            {
                return _data.Load(idx);
            }
            catch (FaceDistillException e) when (Options.OnBadImage == BadImagePolicy.Skip)
            {
                _bad.TryAdd(idx, e.Message);
                idx = (idx + 1) % _data.Count;
            }
        }
        throw new FaceDistillException($"{_data.Describe(0)}: no image of the dataset could be decoded");
    }
}
