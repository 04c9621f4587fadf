namespace FaceDistill.Core;

/// <summary>
/// Deterministic seeds derived from a tuple of integers (SplitMix64 mixing). Every random choice in data loading,
/// augmentation and synthesis is a pure function of (seed, epoch, index, ...), so runs are reproducible and a resumed
/// run sees exactly the batches an uninterrupted one would have.
/// </summary>
public static class Seeds
{
    public static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    public static int Derive(params long[] parts)
    {
        ulong h = 0x1234567UL;
        foreach (var p in parts)
            h = Mix(h ^ (ulong)p);
        return (int)(h & 0x7FFFFFFF);
    }

    public static Random Rng(params long[] parts) => new(Derive(parts));

    /// <summary>Fisher–Yates permutation of 0..n-1, deterministic for the seed.</summary>
    public static int[] Permutation(int n, int seed)
    {
        var p = Enumerable.Range(0, n).ToArray();
        var rng = new Random(seed);
        for (int i = n - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }

    /// <summary>Standard normal sample (Box–Muller).</summary>
    public static double NextGaussian(this Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(),
            u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    public static double Uniform(this Random rng, double lo, double hi) => lo + (hi - lo) * rng.NextDouble();
}
