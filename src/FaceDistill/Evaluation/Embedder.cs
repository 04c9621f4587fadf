using FaceDistill.Data;
using FaceDistill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Evaluation;

/// <summary>Runs a backbone (or head) over a dataset in order, without augmentation, in eval mode and without
/// grad.</summary>
public static class Embedder
{
    /// <summary>L2-normalised embeddings <c>[N, D]</c>; with <paramref name="flip"/> the embedding of the image plus
    /// that of its mirror image (the usual flip test-time augmentation), then normalised.</summary>
    public static float[][] Embed(
        Backbone backbone,
        IFaceDataset data,
        double centerCrop,
        bool flip,
        int batchSize,
        IProgress<int>? progress = null,
        FaceView? view = null
    ) =>
        Run(
            data,
            backbone.InputSize,
            centerCrop,
            batchSize,
            view,
            backbone,
            x => FlipNormalized(backbone.call, x, flip),
            progress
        );

    /// <summary>Embeddings of a teacher (<see cref="Distillation.Teachers.ITeacher"/>), as <see cref="Embed"/> does for
    /// a backbone: images at <paramref name="size"/> (what the students' teacher sees), flip TTA,
    /// L2-normalised.</summary>
    public static float[][] Embed(
        Distillation.Teachers.ITeacher teacher,
        IFaceDataset data,
        int size,
        double centerCrop,
        bool flip,
        int batchSize,
        IProgress<int>? progress = null,
        FaceView? view = null
    ) =>
        Run(
            data,
            size,
            centerCrop,
            batchSize,
            view,
            null,
            x =>
                FlipNormalized(
                    input =>
                    {
                        var o = teacher.Run(input);
                        o.Logits?.Dispose();
                        return o.Embedding
                            ?? throw new Core.FaceDistillException($"teacher {teacher.Name} produces no embedding");
                    },
                    x,
                    flip
                ),
            progress
        );

    /// <summary>Flip test-time augmentation: e = normalize(f(x) + f(mirror(x))) with <paramref name="flip"/>, else
    /// normalize(f(x)).</summary>
    private static Tensor FlipNormalized(Func<Tensor, Tensor> embed, Tensor x, bool flip)
    {
        var e = embed(x);
        if (flip)
        {
            using var xf = x.flip(3);
            using var ef = embed(xf);
            e.add_(ef);
        }
        var n = nn.functional.normalize(e, dim: 1);
        e.Dispose();
        return n;
    }

    /// <summary>A teacher's logits per image (<see cref="Distillation.Teachers.ITeacher.Classes"/> of them), the
    /// images at <paramref name="size"/> (what the students' teacher sees).</summary>
    public static float[][] TeacherLogits(
        Distillation.Teachers.ITeacher teacher,
        IFaceDataset data,
        int size,
        double centerCrop,
        int batchSize,
        IProgress<int>? progress = null,
        FaceView? view = null
    ) =>
        Run(
            data,
            size,
            centerCrop,
            batchSize,
            view,
            null,
            x =>
            {
                var o = teacher.Run(x);
                o.Embedding?.Dispose();
                return o.Logits ?? throw new Core.FaceDistillException($"teacher {teacher.Name} produces no logits");
            },
            progress
        );

    /// <summary>Margin-free head outputs (logits or regression values) per image.</summary>
    public static float[][] Predict(
        FaceModel model,
        IFaceDataset data,
        double centerCrop,
        int batchSize,
        IProgress<int>? progress = null,
        FaceView? view = null
    ) =>
        Run(
            data,
            model.Backbone.InputSize,
            centerCrop,
            batchSize,
            view,
            model,
            x =>
            {
                var y = model.Predict(x);
                return y.dim() == 1 ? y.unsqueeze(1) : y;
            },
            progress
        );

    private static float[][] Run(
        IFaceDataset data,
        int size,
        double centerCrop,
        int batchSize,
        FaceView? view,
        nn.Module? module,
        Func<Tensor, Tensor> f,
        IProgress<int>? progress
    )
    {
        view ??= FaceView.Clean;
        var loader = new DataLoader(
            data,
            new DataLoaderOptions
            {
                BatchSize = batchSize,
                ImageSize = size,
                CenterCrop = centerCrop,
                Shuffle = false,
                DropLast = false,
                OnBadImage = BadImagePolicy.Fail,
                Views = [view],
            }
        );
        var result = new float[data.Count][];
        bool training = module?.training ?? false;
        module?.eval();
        try
        {
            using var _ = no_grad();
            int done = 0;
            foreach (var b in loader.Epoch(0))
            {
                using var scope = NewDisposeScope();
                using var x = b.Tensor(view.Name);
                using var y = Core.NativeRetry.Run(() => f(x));
                using var onCpu = Core.ComputeDevice.OnCpu(y);
                var flat = onCpu.contiguous().data<float>().ToArray();
                int d = (int)y.shape[1];
                for (int k = 0; k < b.Count; k++)
                    result[b.Indices[k]] = flat.AsSpan(k * d, d).ToArray();
                done += b.Count;
                progress?.Report(done);
            }
        }
        finally
        {
            if (training)
                module!.train();
        }
        return result;
    }

    public static double Cosine(float[] a, float[] b)
    {
        double s = 0,
            na = 0,
            nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            s += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return s / Math.Sqrt(Math.Max(na * nb, 1e-24));
    }
}
