using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Faces.Zoo;
using static TorchSharp.torch;

namespace FaceDistill.Evaluation;

/// <summary>One way to feed an imported net: channel order and pixel range, <c>input = scale · x + offset</c> for a
/// crop x in [0, 1].</summary>
public sealed record ProbeVariant(string Channels, string Range, float Scale, float Offset);

/// <summary>How well the net separates identities fed one way: the verification AUC over every pair of the probe's
/// images; <see cref="Shipped"/> marks the preprocessing FaceDistill uses for the net.</summary>
public sealed record ProbeRow(ProbeVariant Variant, double Auc, bool Shipped);

/// <summary>
/// Which input an imported face-embedding graph expects (<c>facedistill models probe</c>). A tfjs graph carries no
/// record of its preprocessing, and parity with the JavaScript original only shows that the import computes what the
/// original computes on the same tensor. The probe embeds the first K images of each identity folder of an aligned
/// face set (e.g. <c>../shared/datasets/glint6</c>) under every channel order (RGB, BGR) × pixel range ([0, 1],
/// [0, 255], [−1, 1], (x − 127.5)/128), resized to the net's input side, and measures the verification AUC over all
/// pairs (same identity = positive): the preprocessing a net was trained with separates identities far better than
/// the others.
/// </summary>
public static class PreprocessingProbe
{
    public static readonly IReadOnlyList<(string Range, float Scale, float Offset)> Ranges =
    [
        ("[0, 1]", 1f, 0f),
        ("[0, 255]", 255f, 0f),
        ("[-1, 1]", 2f, -1f),
        ("(x - 127.5)/128", 255f / 128f, -127.5f / 128f),
    ];

    public static IReadOnlyList<ProbeRow> Run(GraphFaceNet net, string folder, int perIdentity)
    {
        if (perIdentity < 2)
            throw new FaceDistillException($"--per-identity must be at least 2, found {perIdentity}");
        var data = FileFaceDataset.FromImageFolder(folder, FaceTask.Recognition);
        var picked = Enumerable
            .Range(0, data.Count)
            .GroupBy(i => data.Labels(i).Identity)
            .SelectMany(g => g.Take(perIdentity))
            .ToArray();
        if (picked.Select(i => data.Labels(i).Identity).Distinct().Count() < 2)
            throw FaceDistillException.ForFile(folder, "the probe needs at least two identity folders");
        if (picked.GroupBy(i => data.Labels(i).Identity).All(g => g.Count() < 2))
            throw FaceDistillException.ForFile(
                folder,
                "the probe needs an identity folder with at least two images (same-identity pairs)"
            );
        int size = net.Spec.InputSize,
            per = 3 * size * size;
        var px = new float[picked.Length * per];
        using (var bar = Progress.Start($"probe {net.Spec.Name}: read", picked.Length))
            for (int k = 0; k < picked.Length; k++)
            {
                Augment.ToTensorData(
                    data.Image(picked[k]),
                    size,
                    1.0,
                    AugmentOptions.None,
                    null,
                    px.AsSpan(k * per, per)
                );
                bar.Update(k + 1);
            }
        var ids = picked.Select(i => data.Labels(i).Identity).ToArray();
        using var rgb = (tensor(px, [picked.Length, 3, size, size]) + 1) / 2; // [−1, 1] → [0, 1]
        using var bgr = rgb.flip(1);
        var rows = new List<ProbeRow>();
        using var probeBar = Progress.Start($"probe {net.Spec.Name}", 2 * Ranges.Count);
        foreach (var (channels, x) in new[] { ("RGB", rgb), ("BGR", bgr) })
        foreach (var (range, scale, offset) in Ranges)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var embeddings = NativeRetry.Run(() =>
                nn.functional.normalize(
                    cat(Batches(x, 64).Select(b => net.Embed(b * scale + offset)).ToList(), 0),
                    dim: 1
                )
            );
            var auc = Auc(embeddings, ids);
            bool shipped =
                channels == "RGB"
                && Math.Abs(scale - net.Spec.Scale) < 1e-6
                && Math.Abs(offset - net.Spec.Offset) < 1e-6;
            rows.Add(new ProbeRow(new ProbeVariant(channels, range, scale, offset), auc, shipped));
            probeBar.Update(rows.Count, $"{channels} {range}: AUC {auc:F3}");
        }
        return rows;
    }

    private static IEnumerable<Tensor> Batches(Tensor x, int size)
    {
        for (long i = 0; i < x.shape[0]; i += size)
            yield return x.narrow(0, i, Math.Min(size, x.shape[0] - i));
    }

    private static double Auc(Tensor unit, int[] ids)
    {
        using var sim = unit.matmul(unit.t());
        var s = sim.data<float>().ToArray();
        int n = ids.Length;
        var scores = new List<double>();
        var same = new List<bool>();
        for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
        {
            scores.Add(s[i * n + j]);
            same.Add(ids[i] == ids[j]);
        }
        return Verification.Auc(Verification.Roc(scores, same));
    }
}
