using System.Collections.Concurrent;
using FaceDistill.Core;
using FaceDistill.Data;
using static TorchSharp.torch;

namespace FaceDistill.Omni;

/// <summary>Real images of each class for the matching steps: a seeded draw (without replacement) of up to
/// <c>batch</c> images of a class, decoded un-augmented at the condensation's size (the Siamese augmentation comes
/// later) into <c>[n, 3, S, S]</c> in [−1, 1]. Decoded images are kept, up to <c>cacheBytes</c>, for the next
/// draws.</summary>
public sealed class RealSampler(
    IFaceDataset data,
    int[][] byClass,
    int size,
    int batch,
    int seed,
    long cacheBytes = 1L << 30
)
{
    private readonly ConcurrentDictionary<int, float[]> _cache = new();
    private long _cached;

    public int[][] ByClass => byClass;
    public int Size => size;

    /// <summary>Draw <paramref name="draw"/> of class <paramref name="c"/>.</summary>
    public Tensor Batch(int c, int draw)
    {
        var items = byClass[c];
        var order = Seeds.Permutation(items.Length, Seeds.Derive(seed, c, draw, 0x5A));
        int n = Math.Min(batch, items.Length);
        return Images(order.Take(n).Select(i => items[i]).ToArray());
    }

    /// <summary>Dataset items as one tensor.</summary>
    public Tensor Images(IReadOnlyList<int> indices)
    {
        int per = 3 * size * size;
        var px = new float[indices.Count * per];
        Parallel.For(0, indices.Count, k => Pixels(indices[k]).CopyTo(px.AsSpan(k * per, per)));
        return tensor(px, [indices.Count, 3, size, size]);
    }

    public float[] Pixels(int index)
    {
        if (_cache.TryGetValue(index, out var hit))
            return hit;
        var dst = new float[3 * size * size];
        Augment.ToTensorData(data.Image(index), size, 1.0, AugmentOptions.None, null, dst);
        if (Interlocked.Add(ref _cached, 4L * dst.Length) <= cacheBytes)
            _cache[index] = dst;
        return dst;
    }
}
