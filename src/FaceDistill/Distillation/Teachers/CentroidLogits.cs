using FaceDistill.Core;
using FaceDistill.Data;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FaceDistill.Distillation.Teachers;

/// <summary>
/// Class logits for a teacher that only embeds (the zoo's recognition net, an ONNX ArcFace): the cosine of its embedding
/// to each training identity's centroid, at the student head's scale,
/// <code>z_c = s · cos(e, μ_c),   μ_c = normalize( Σ_{i: y_i = c} e_i / ‖e_i‖ )</code>
/// with the teacher's un-augmented clean-view embeddings of the training set (read from its output cache). These play
/// the part of the teacher's margin-free softmax logits over the student's class set, so Hinton KD, DKD and GKD apply
/// to any embedding teacher. Identities the teacher cannot separate give flat rows — exactly the "dark knowledge" the
/// student is meant to learn.
/// </summary>
public sealed class CentroidLogits : IDisposable
{
    private readonly Tensor _centroids; // [C, D], unit rows

    public int Classes { get; }
    public double Scale { get; }

    public CentroidLogits(float[,] centroids, double scale)
    {
        if (!(scale > 0)) throw new FaceDistillException($"centroid logits: the scale must be positive, got {scale}");
        Classes = centroids.GetLength(0);
        Scale = scale;
        using var c = tensor(centroids);
        _centroids = F.normalize(c, dim: 1).detach();
    }

    /// <summary>Centroids of the cached teacher embeddings of <paramref name="train"/> grouped by class (identity for recognition).</summary>
    public static CentroidLogits FromCache(TeacherOutputCache cache, IFaceDataset train, FaceTask task, int classes, double scale)
    {
        if (cache.EmbeddingSize == 0) throw FaceDistillException.ForFile(cache.Path, "the teacher produces no embedding to build class centroids from");
        if (cache.Count != train.Count) throw FaceDistillException.ForFile(cache.Path, $"teacher cache holds {cache.Count} rows, the training set has {train.Count}");
        int d = cache.EmbeddingSize;
        var sum = new float[classes, d];
        var counts = new int[classes];
        const int chunk = 1024;
        for (int start = 0; start < train.Count; start += chunk)
        {
            var idx = Enumerable.Range(start, Math.Min(chunk, train.Count - start)).ToArray();
            var rows = cache.Rows(idx);
            using var e = rows.Embedding!;
            rows.Logits?.Dispose();
            var v = e.data<float>().ToArray();
            for (int k = 0; k < idx.Length; k++)
            {
                int c = task.ClassLabel(train.Labels(idx[k]));
                if (c < 0 || c >= classes) throw new FaceDistillException($"centroid logits: class {c} of training image {train.Describe(idx[k])} is outside 0..{classes - 1}");
                double norm = 0;
                for (int j = 0; j < d; j++) norm += (double)v[k * d + j] * v[k * d + j];
                float inv = norm > 0 ? (float)(1 / Math.Sqrt(norm)) : 0;
                for (int j = 0; j < d; j++) sum[c, j] += v[k * d + j] * inv;
                counts[c]++;
            }
        }
        var empty = Enumerable.Range(0, classes).Where(c => counts[c] == 0).ToList();
        if (empty.Count > 0) throw new FaceDistillException($"centroid logits: {empty.Count} classes have no training image (e.g. {empty[0]})");
        return new CentroidLogits(sum, scale);
    }

    /// <summary><c>[N, D]</c> teacher embeddings → <c>[N, C]</c> logits.</summary>
    public Tensor Logits(Tensor embedding) => Scale * F.normalize(embedding, dim: 1).matmul(_centroids.T);

    public void Dispose() => _centroids.Dispose();
}
