using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Models;
using static TorchSharp.torch;

namespace FaceDistill.Omni;

/// <summary>
/// The primitive model's view of a set of faces, computed once: per image the L2-normalised embedding f(x) and the
/// classifier's posterior p(·|x) = softmax(head(f(x))), one float16 row <c>[f(x) | p(·|x)]</c> of a
/// <see cref="FeatureStore"/>. The store's file name is a hash of the model (its weights), the images (paths, sizes,
/// modification times) and the preprocessing, so a change selects a new store and a stale one is never read. The
/// images are read in order in batches (a bounded number decoded ahead); after each batch the rows are flushed, so a
/// killed extraction continues at the first row not yet written and ends with the same store.
/// </summary>
public static class FeatureExtraction
{
    /// <summary>The store of <paramref name="data"/> under <paramref name="model"/>, computed (or completed) first
    /// when needed. <paramref name="modelKey"/> identifies the weights (e.g. the checkpoint's SHA-256).</summary>
    public static FeatureStore Extract(
        FaceModel model,
        string modelKey,
        IFaceDataset data,
        int imageSize,
        string storeDir,
        int batchSize = 128,
        string label = "features",
        CancellationToken cancel = default
    )
    {
        int classes = ClassesOf(model, imageSize);
        int dim = model.Backbone.EmbeddingSize + classes;
        var key = Key(modelKey, data, imageSize);
        var path = Path.Combine(storeDir, $"features-{key}.f16");
        Directory.CreateDirectory(storeDir);
        var store = FeatureStore.OpenOrCreate(path, data.Count, dim, key);
        if (store.Complete)
            return store;
        try
        {
            Fill(model, data, imageSize, batchSize, store, label, cancel);
        }
        catch
        {
            store.Dispose();
            throw;
        }
        return store;
    }

    private static void Fill(
        FaceModel model,
        IFaceDataset data,
        int imageSize,
        int batchSize,
        FeatureStore store,
        string label,
        CancellationToken cancel
    )
    {
        if (store.Filled % batchSize != 0)
            batchSize = (int)Gcd(store.Filled, batchSize);
        var safe = new SkippingDataset(data);
        var skippedPath = SkippedPath(store);
        var loader = new DataLoader(
            safe,
            new DataLoaderOptions
            {
                BatchSize = batchSize,
                ImageSize = imageSize,
                Shuffle = false,
                DropLast = false,
                OnBadImage = BadImagePolicy.Fail,
            }
        );
        bool training = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            using var bar = Progress.Start(label, data.Count);
            if (store.Filled > 0)
                bar.Update(store.Filled, "resumed");
            foreach (var b in loader.Epoch(0, (int)(store.Filled / batchSize), cancel))
            {
                cancel.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                using var x = b.Tensor();
                var rows = NativeRetry.Run(() =>
                {
                    var e = model.Backbone.call(x);
                    var p = nn.functional.softmax(model.Head.call(e, null), 1);
                    return cat([nn.functional.normalize(e, dim: 1), p], 1).contiguous();
                });
                var values = rows.data<float>().ToArray();
                var bad = b
                    .Indices.Select((index, k) => (index, k))
                    .Where(t => safe.Failed.ContainsKey(t.index))
                    .ToList();
                foreach (var (_, k) in bad)
                    Array.Clear(values, k * store.Dim, store.Dim); // a zero row: never mined
                if (bad.Count > 0)
                    File.AppendAllLines(skippedPath, bad.Select(t => safe.Failed[t.index]));
                store.Append(values);
                bar.Update(store.Filled);
            }
        }
        finally
        {
            if (training)
                model.train();
        }
    }

    /// <summary>The model's posterior at temperature τ, softmax(head(f(x)) / τ), of images already in the loader's
    /// layout (<c>[M, 3, S, S]</c> in [−1, 1], row-major): the soft labels of <c>condense.softLabels: model</c>.
    /// Returns <c>[M, C]</c> row-major.</summary>
    public static float[] Posteriors(FaceModel model, float[] pixels, int imageSize, double temperature)
    {
        int per = 3 * imageSize * imageSize,
            m = pixels.Length / per;
        bool training = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            var rows = new List<float>();
            for (int start = 0; start < m; start += 128)
            {
                int n = Math.Min(128, m - start);
                using var scope = NewDisposeScope();
                var x = Core.ComputeDevice.OnDevice(
                    tensor(pixels.AsSpan(start * per, n * per).ToArray(), [n, 3, imageSize, imageSize])
                );
                var p = NativeRetry.Run(() =>
                    nn.functional.softmax(model.Head.call(model.Backbone.call(x), null) / temperature, 1).cpu()
                );
                rows.AddRange(p.contiguous().data<float>().ToArray());
            }
            return rows.ToArray();
        }
        finally
        {
            if (training)
                model.train();
        }
    }

    /// <summary>The images of the store that could not be decoded (their rows are zero), one reason per line.</summary>
    public static IReadOnlyList<string> Skipped(FeatureStore store) =>
        File.Exists(SkippedPath(store)) ? File.ReadAllLines(SkippedPath(store)) : [];

    private static string SkippedPath(FeatureStore store) => store.Path + ".skipped.txt";

    /// <summary>A dataset that never fails: an image that cannot be decoded comes back as a small black square and is
    /// recorded (index → reason), so one bad file in a pool of millions costs a zero row, not the extraction.</summary>
    private sealed class SkippingDataset(IFaceDataset inner) : IFaceDataset
    {
        public System.Collections.Concurrent.ConcurrentDictionary<int, string> Failed { get; } = new();
        public int Count => inner.Count;

        public int ClassCount(FaceTask task) => inner.ClassCount(task);

        public FaceLabels Labels(int index) => inner.Labels(index);

        public RgbImage Image(int index) => Load(index).Image;

        public string Describe(int index) => inner.Describe(index);

        public (RgbImage Image, float[]? Landmarks) Load(int index)
        {
            try
            {
                return inner.Load(index);
            }
            catch (FaceDistillException e)
            {
                Failed[index] = e.Message;
                return (new RgbImage(8, 8), null);
            }
        }
    }

    private static long Gcd(long a, long b) => b == 0 ? a : Gcd(b, a % b);

    /// <summary>The width of the head's output (the class count).</summary>
    private static int ClassesOf(FaceModel model, int imageSize)
    {
        using var _ = no_grad();
        bool training = model.training;
        model.eval();
        using var x = zeros(1, 3, imageSize, imageSize);
        using var y = model.Predict(x);
        if (training)
            model.train();
        if (y.dim() != 2 || y.shape[1] < 2)
            throw new FaceDistillException("mining needs a classification model (its head gives class scores)");
        return (int)y.shape[1];
    }

    /// <summary>Hex key of the model, the images and the preprocessing.</summary>
    public static string Key(string modelKey, IFaceDataset data, int imageSize) =>
        DatasetFingerprint.Of(data, 32, modelKey, $"size={imageSize}");
}
