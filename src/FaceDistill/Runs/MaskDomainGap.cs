using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Evaluation;
using FaceDistill.Faces;
using static TorchSharp.torch;

namespace FaceDistill.Runs;

/// <summary>What <see cref="MaskDomainGap.Measure"/> compares: aligned crops of real masked faces (no labels needed),
/// aligned clean crops with their 68 landmarks (<c>landmarks.csv</c>, as <c>align</c> writes it) to draw occluders
/// on, the embedding model, the occluders, and how many crops of each set.</summary>
public sealed record MaskGapOptions(
    string Real,
    string Clean,
    IReadOnlyList<string> Models,
    IReadOnlyList<string> Occluders,
    int Limit = 1000,
    int Seed = 1
)
{
    /// <summary>Also draw the "÷ none" of every occluder and model as grouped bars into this PNG.</summary>
    public string? Plot { get; init; }
}

/// <summary>One drawn set's distance to the real masked faces under one model: the Fréchet distance between the two
/// sets' embeddings, and that distance over the clean set's (below 1: the occluder brings the crops closer to real
/// masked faces than no occluder does).</summary>
public sealed record MaskGap(string Model, string Occluder, int Crops, double Frechet, double OfClean);

/// <summary>The gap per model and occluder, and per model the noise floor: the Fréchet distance between two random
/// halves of the real set.</summary>
public sealed record MaskGapReport(
    int RealCrops,
    IReadOnlyDictionary<string, double> RealHalves,
    IReadOnlyList<MaskGap> Rows
);

/// <summary>
/// The drawn-mask domain gap measured without identity labels: how far the embeddings of clean crops with an occluder
/// drawn on them lie from the embeddings of real masked crops, as the Fréchet distance between Gaussians fitted to the
/// two sets (the FID of Heusel et al., 2017, on a face model's L2-normalised embeddings instead of Inception's
/// features):
/// <code>
///   d² = ‖μ_r − μ_d‖² + Tr(Σ_r + Σ_d − 2 (Σ_r^½ Σ_d Σ_r^½)^½)
/// </code>
/// An occluder style whose d² is lower looks more like real masks to the model; the clean crops with no occluder
/// (<c>none</c>) are the reference every row is divided by. Distances grow with fewer crops (the estimate is biased),
/// so rows are comparable only at the same crop counts.
/// </summary>
public static class MaskDomainGap
{
    public static MaskGapReport Measure(MaskGapOptions o, IProgress<int>? progress = null)
    {
        if (!Directory.Exists(o.Real))
            throw FaceDistillException.ForFile(o.Real, "no such folder (the real masked crops)");
        var csv = Path.Combine(o.Clean, "landmarks.csv");
        if (!File.Exists(csv))
            throw FaceDistillException.ForFile(o.Clean, "needs landmarks.csv (align writes it) to draw occluders on");
        if (o.Limit < 10)
            throw new FaceDistillException($"--limit must be at least 10, found {o.Limit}");
        foreach (var occluder in o.Occluders.Where(x => x != "none"))
            FaceViews.Parse($"occluded:{occluder}");
        var real = Subset(FileFaceDataset.FromImageFolder(o.Real, FaceTask.Recognition), o.Limit, o.Seed);
        var clean = Subset(
            DatasetLandmarks.Attach(FileFaceDataset.FromImageFolder(o.Clean, FaceTask.Recognition), csv),
            o.Limit,
            o.Seed + 1
        );
        if (o.Models.Count == 0)
            throw new FaceDistillException("--model: give at least one model");
        if (o.Plot is { } plot)
        {
            AtomicFile.CheckWritable(plot, "--plot");
            Plots.BitmapFile.CheckPath(plot, "--plot", pngOnly: true);
        }
        var occluders = o.Occluders.Prepend("none").Distinct().ToList();
        var rows = new List<MaskGap>();
        var floors = new Dictionary<string, double>();
        int realCount = 0;
        foreach (var name in o.Models)
        {
            using var model = TeacherFactory.Create(ModelVerification.Spec(name));
            float[][] Embed(IFaceDataset data, FaceView view) =>
                NativeRetry.Run(() => Embedder.Embed(model, data, model.InputSize, 1.0, false, 64, progress, view));
            var r = Embed(real, FaceView.Clean);
            realCount = r.Length;
            var half = Seeds.Permutation(r.Length, o.Seed);
            floors[name] = Frechet(
                half.Take(r.Length / 2).Select(i => r[i]).ToArray(),
                half.Skip(r.Length / 2).Select(i => r[i]).ToArray()
            );
            double none = double.NaN;
            foreach (var occluder in occluders)
            {
                var view = occluder == "none" ? FaceView.Clean : FaceViews.Parse($"occluded:{occluder}");
                double d = Frechet(r, Embed(clean, view));
                if (occluder == "none")
                    none = d;
                rows.Add(new MaskGap(name, occluder, clean.Count, d, d / none));
            }
        }
        if (o.Plot is { } path)
        {
            var values = new double[occluders.Count, o.Models.Count];
            for (int i = 0; i < occluders.Count; i++)
            for (int m = 0; m < o.Models.Count; m++)
                values[i, m] = rows.First(x => x.Model == o.Models[m] && x.Occluder == occluders[i]).OfClean;
            Plots.BitmapFile.SavePng(
                Plots.Charts.Bars(
                    "Drawn occluders against real masks (lower: closer)",
                    "Fréchet distance ÷ none",
                    occluders,
                    o.Models.ToList(),
                    values,
                    new double[occluders.Count, o.Models.Count]
                ),
                path
            );
        }
        return new MaskGapReport(realCount, floors, rows);
    }

    private static IFaceDataset Subset(IFaceDataset data, int limit, int seed) =>
        data.Count <= limit
            ? data
            : new SubsetDataset(data, Seeds.Permutation(data.Count, seed).Take(limit).Order().ToArray());

    /// <summary>The Fréchet distance between Gaussians fitted to two sets of vectors (rows), in float64.</summary>
    public static double Frechet(float[][] a, float[][] b)
    {
        using var scope = NewDisposeScope();
        var (ma, ca) = Moments(a);
        var (mb, cb) = Moments(b);
        var root = SymmetricSqrt(ca);
        var inner = root.matmul(cb).matmul(root);
        inner = (inner + inner.T) / 2;
        var eig = linalg.eigvalsh(inner).clamp_min(0).sqrt().sum();
        var mean = (ma - mb).square().sum();
        return (mean + ca.trace() + cb.trace() - 2 * eig).item<double>();
    }

    private static (Tensor Mean, Tensor Cov) Moments(float[][] rows)
    {
        if (rows.Length < 2)
            throw new FaceDistillException("the Fréchet distance needs at least two embeddings per set");
        int d = rows[0].Length;
        var x = tensor(rows.SelectMany(v => v.Select(f => (double)f)).ToArray(), [rows.Length, d]);
        var mean = x.mean([0]);
        var c = x - mean;
        return (mean, c.T.matmul(c) / (rows.Length - 1));
    }

    private static Tensor SymmetricSqrt(Tensor m)
    {
        var (values, vectors) = linalg.eigh(m);
        return vectors.matmul(diag(values.clamp_min(0).sqrt())).matmul(vectors.T);
    }
}
