using FaceDistill.Core;
using FaceDistill.Data;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FaceDistill.Distillation.Teachers;

/// <summary>
/// Class logits for a teacher that only embeds (the zoo's recognition net, an ONNX ArcFace): the cosine of its centred
/// embedding to each training identity's centroid, at the student head's scale,
/// <code>ê = e/‖e‖,   m = mean_i ê_i,   μ_c = normalize( Σ_{i: y_i = c} (ê_i − m) ),   z_c = s · cos(ê − m, μ_c)</code>
/// with the teacher's un-augmented clean-view embeddings of the training set (read from its output cache). These play
/// the part of the teacher's margin-free softmax logits over the student's class set, so Hinton KD, DKD and GKD apply
/// to any embedding teacher. Centring matters: descriptors trained with a Euclidean loss (face-api's, dlib's) share a
/// large common component — random CelebA faces have a mean cosine of 0.92 under face-api's net — and uncentred
/// cosines would make every row of logits nearly uniform, i.e. KD would pull the student towards label-free noise.
/// </summary>
public sealed class CentroidLogits : IDisposable
{
    private readonly Tensor _centroids; // [C, D], unit rows
    private readonly Tensor? _mean; // [1, D], subtracted from unit embeddings

    public int Classes { get; }
    public double Scale { get; }

    /// <param name="centroids">Class centroids (normalised here), in the centred space when <paramref name="mean"/> is
    /// given.</param> <param name="mean">The mean unit embedding m to subtract (null: no centring).</param>
    public CentroidLogits(float[,] centroids, double scale, float[]? mean = null)
    {
        if (!(scale > 0))
            throw new FaceDistillException($"centroid logits: the scale must be positive, got {scale}");
        if (mean is not null && mean.Length != centroids.GetLength(1))
            throw new FaceDistillException(
                $"centroid logits: mean has {mean.Length} dimensions, centroids {centroids.GetLength(1)}"
            );
        Classes = centroids.GetLength(0);
        Scale = scale;
        using var c = tensor(centroids);
        _centroids = F.normalize(c, dim: 1).detach();
        _mean = mean is null ? null : tensor(mean).view(1, -1).detach();
    }

    /// <summary>Centroids of the cached teacher embeddings of <paramref name="train"/> grouped by class (identity for
    /// recognition).</summary>
    public static CentroidLogits FromCache(
        TeacherOutputCache cache,
        IFaceDataset train,
        FaceTask task,
        int classes,
        double scale
    )
    {
        if (cache.EmbeddingSize == 0)
            throw FaceDistillException.ForFile(
                cache.Path,
                "the teacher produces no embedding to build class centroids from"
            );
        if (cache.Count != train.Count)
            throw FaceDistillException.ForFile(
                cache.Path,
                $"teacher cache holds {cache.Count} rows, the training set has {train.Count}"
            );
        int d = cache.EmbeddingSize;
        // unit embeddings of the whole training set (N × D floats: 3 MB for CelebA-299 at D = 128)
        var unit = new float[train.Count * d];
        var label = new int[train.Count];
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
                if (c < 0 || c >= classes)
                    throw new FaceDistillException(
                        $"centroid logits: class {c} of training image {train.Describe(idx[k])} is outside "
                            + $"0..{classes - 1}"
                    );
                label[idx[k]] = c;
                double norm = 0;
                for (int j = 0; j < d; j++)
                    norm += (double)v[k * d + j] * v[k * d + j];
                float inv = norm > 0 ? (float)(1 / Math.Sqrt(norm)) : 0;
                for (int j = 0; j < d; j++)
                    unit[(long)idx[k] * d + j] = v[k * d + j] * inv;
            }
        }
        var mean = new float[d];
        for (int i = 0; i < train.Count; i++)
        for (int j = 0; j < d; j++)
            mean[j] += unit[(long)i * d + j] / train.Count;
        var sum = new float[classes, d];
        var counts = new int[classes];
        for (int i = 0; i < train.Count; i++)
        {
            for (int j = 0; j < d; j++)
                sum[label[i], j] += unit[(long)i * d + j] - mean[j];
            counts[label[i]]++;
        }
        var empty = Enumerable.Range(0, classes).Where(c => counts[c] == 0).ToList();
        if (empty.Count > 0)
            throw new FaceDistillException(
                $"centroid logits: {empty.Count} classes have no training image (e.g. {empty[0]})"
            );
        return new CentroidLogits(sum, scale, mean);
    }

    /// <summary><c>[N, D]</c> teacher embeddings → <c>[N, C]</c> logits.</summary>
    public Tensor Logits(Tensor embedding)
    {
        using var unit = F.normalize(embedding, dim: 1);
        if (_mean is null)
            return Scale * unit.matmul(_centroids.T);
        using var centred = F.normalize(unit - _mean, dim: 1);
        return Scale * centred.matmul(_centroids.T);
    }

    public void Dispose()
    {
        _centroids.Dispose();
        _mean?.Dispose();
    }
}
