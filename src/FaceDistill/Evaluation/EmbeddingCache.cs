using FaceDistill.Core;

namespace FaceDistill.Evaluation;

/// <summary>
/// Embeddings of an evaluation set, kept on disk so that evaluating the same model on the same images and view again
/// (an experiment run a second time to add a row, a report rebuilt) reads them instead of running the network. The
/// caller's key names everything the embeddings depend on (the model's weights, the images with their sizes and
/// times, the view, crop, flip and input size); the file is <c>&lt;dir&gt;/&lt;key&gt;.emb</c>: a 16-byte header
/// (<c>FDEM</c>, version, rows, width) and float32 rows, written atomically. A file that does not match its header is
/// ignored and rebuilt. Verification from cached embeddings is exactly the verification from fresh ones (inference is
/// deterministic).
/// </summary>
public static class EmbeddingCache
{
    private static readonly byte[] Magic = "FDEM"u8.ToArray();

    public static float[][] GetOrCompute(string dir, string key, Func<float[][]> compute)
    {
        var path = Path.Combine(dir, $"{key}.emb");
        if (TryRead(path) is { } cached)
            return cached;
        var rows = compute();
        Directory.CreateDirectory(dir);
        int width = rows.Length == 0 ? 0 : rows[0].Length;
        var bytes = new byte[16 + 4L * rows.Length * width];
        Magic.CopyTo(bytes, 0);
        BitConverter.TryWriteBytes(bytes.AsSpan(4), 1);
        BitConverter.TryWriteBytes(bytes.AsSpan(8), rows.Length);
        BitConverter.TryWriteBytes(bytes.AsSpan(12), width);
        for (int i = 0; i < rows.Length; i++)
            Buffer.BlockCopy(rows[i], 0, bytes, 16 + 4 * i * width, 4 * width);
        AtomicFile.WriteAllBytes(path, bytes);
        return rows;
    }

    private static float[][]? TryRead(string path)
    {
        if (!File.Exists(path))
            return null;
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 16 || !bytes.AsSpan(0, 4).SequenceEqual(Magic) || BitConverter.ToInt32(bytes, 4) != 1)
            return null;
        int n = BitConverter.ToInt32(bytes, 8),
            width = BitConverter.ToInt32(bytes, 12);
        if (n < 0 || width < 0 || bytes.Length != 16 + 4L * n * width)
            return null;
        var rows = new float[n][];
        for (int i = 0; i < n; i++)
        {
            rows[i] = new float[width];
            Buffer.BlockCopy(bytes, 16 + 4 * i * width, rows[i], 0, 4 * width);
        }
        return rows;
    }
}
