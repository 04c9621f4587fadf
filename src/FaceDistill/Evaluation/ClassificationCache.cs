using System.Text.Json;
using FaceDistill.Core;

namespace FaceDistill.Evaluation;

/// <summary>
/// Classification reports of an evaluation, kept on disk like <see cref="EmbeddingCache"/>'s embeddings: the same
/// model on the same images and view again (an experiment run a second time to add a row) reads its report — metrics,
/// confusion matrix and per-image correctness, all the tables and p-values need — instead of classifying again
/// (face-api's expression net over FER2013's test set on three views: about 7 minutes here). The caller's key names
/// everything the report depends on; the file is <c>&lt;dir&gt;/&lt;key&gt;.cls.json</c>, written atomically; one that
/// does not parse is ignored and rebuilt. Classification is deterministic, so a cached report is the fresh one.
/// </summary>
public static class ClassificationCache
{
    private sealed record Stored(
        string Protocol,
        Dictionary<string, double> Metrics,
        double Accuracy,
        int[][] Confusion,
        bool[] Correct
    );

    /// <summary>The cached report of <paramref name="key"/>, else <paramref name="compute"/>'s, stored when it is a
    /// classification (other reports pass through uncached).</summary>
    public static EvalReport GetOrCompute(string dir, string key, Func<EvalReport> compute)
    {
        var path = Path.Combine(dir, $"{key}.cls.json");
        if (TryRead(path) is { } cached)
            return cached;
        var report = compute();
        if (report.Detail is ClassificationResult c && report.Metrics.Values.All(double.IsFinite))
        {
            int k = c.Confusion.GetLength(0);
            var rows = Enumerable
                .Range(0, k)
                .Select(i => Enumerable.Range(0, k).Select(j => c.Confusion[i, j]).ToArray());
            var stored = new Stored(report.Protocol, new(report.Metrics), c.Accuracy, rows.ToArray(), c.Correct);
            Directory.CreateDirectory(dir);
            AtomicFile.WriteAllText(path, JsonSerializer.Serialize(stored));
        }
        return report;
    }

    private static EvalReport? TryRead(string path)
    {
        if (!File.Exists(path))
            return null;
        try
        {
            var s = JsonSerializer.Deserialize<Stored>(File.ReadAllText(path));
            if (s is null || s.Confusion.Any(r => r.Length != s.Confusion.Length))
                return null;
            int k = s.Confusion.Length;
            var confusion = new int[k, k];
            for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
                confusion[i, j] = s.Confusion[i][j];
            return new EvalReport(s.Protocol, s.Metrics, new ClassificationResult(s.Accuracy, confusion, s.Correct));
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            return null;
        }
    }
}
