using FaceDistill.Data;
using FaceDistill.Evaluation;

namespace FaceDistill.Tests;

/// <summary>A fact that needs ../shared (real datasets); skipped with a message in a clone without it.</summary>
public sealed class SharedFactAttribute : FactAttribute
{
    public SharedFactAttribute()
    {
        if (TestUtil.Shared() is null)
            Skip = "../shared is absent (real datasets live there; a fresh clone has none)";
    }
}

public class SharedDataTests
{
    private static string Ds(string name) => Path.Combine(TestUtil.Shared()!, "datasets", name);

    [SharedFact]
    public void LfwPairsLoadAsTheStandardViewTwoProtocol()
    {
        var pl = PairList.LoadLfw(Path.Combine(Ds("lfw"), "pairs.txt"), Path.Combine(Ds("lfw"), "lfw"));
        Assert.Equal(6000, pl.Pairs.Count);
        Assert.Equal(10, pl.Folds);
        Assert.Equal(7701, pl.Images.Count);
        Assert.Equal(3000, pl.Pairs.Count(p => p.Same));
        Assert.All(Enumerable.Range(0, 10), f => Assert.Equal(600, pl.Pairs.Count(p => p.Fold == f)));
        var img = pl.Images.Image(pl.Pairs[0].A); // grayscale JPEG → RGB
        Assert.Equal(250, img.Width);
        Assert.Equal(img.Pixels[3 * 125 * 250 + 3 * 125], img.Pixels[3 * 125 * 250 + 3 * 125 + 1]);
    }

    [SharedFact]
    public void Fer2013FoldersAreTheSevenExpressions()
    {
        var test = FileFaceDataset.FromImageFolder(Path.Combine(Ds("fer2013"), "test"), FaceTask.Expression);
        Assert.Equal(7178, test.Count);
        Assert.Equal(7, Enumerable.Range(0, test.Count).Select(i => test.Labels(i).Expression).Distinct().Count());
        Assert.Equal(48, test.Image(0).Width);
    }

    [SharedFact]
    public void UtkFaceLabelsParseFromFileNames()
    {
        var ds = FileFaceDataset.FromUtkFace(Path.Combine(Ds("utkface"), "UTKFace"), out int skipped);
        Assert.Equal(7000, ds.Count + skipped);
        Assert.True(skipped <= 1);
        var ages = Enumerable.Range(0, ds.Count).Select(i => ds.Labels(i).Age).ToArray();
        Assert.InRange(ages.Min(), 1, 5);
        Assert.True(ages.Max() > 90);
        Assert.Equal(128, ds.Image(0).Width);
    }

    [SharedFact]
    public void OrlPgmFacesDecode()
    {
        var ds = FileFaceDataset.FromImageFolder(Path.Combine(Ds("orl"), "orl_faces"), FaceTask.Recognition);
        Assert.Equal(400, ds.Count);
        Assert.Equal(40, ds.ClassCount(FaceTask.Recognition));
        var img = ds.Image(0);
        Assert.Equal((92, 112), (img.Width, img.Height));
    }

    [SharedFact]
    public void CelebA299IsAnIdentityFolder()
    {
        var ds = FileFaceDataset.FromImageFolder(Ds("celeba299"), FaceTask.Recognition);
        Assert.Equal(299, ds.ClassCount(FaceTask.Recognition));
        Assert.Equal(6252, ds.Count);
    }

    [SharedFact]
    public void VerificationOnRawPixelsOfLfwIsAboveChanceButFarFromSolved()
    {
        // a sanity check of the whole protocol on real pairs: cosine of 24×24 centre crops (no learning) — the known
        // raw-pixel baseline on LFW is ~60–70%
        var pl = PairList.LoadLfw(Path.Combine(Ds("lfw"), "pairs.txt"), Path.Combine(Ds("lfw"), "lfw"));
        var sub = pl.Pairs.Where((_, i) => i % 10 == 0).ToArray(); // 600 pairs, 60 per fold
        var cache = new Dictionary<int, float[]>();
        float[] Vec(int i)
        {
            if (cache.TryGetValue(i, out var v))
                return v;
            var d = new float[3 * 24 * 24];
            Augment.ToTensorData(pl.Images.Image(i), 24, 0.45, AugmentOptions.None, null, d);
            float mean = d.Average();
            for (int k = 0; k < d.Length; k++)
                d[k] -= mean;
            return cache[i] = d;
        }
        var scores = sub.Select(p => Embedder.Cosine(Vec(p.A), Vec(p.B))).ToArray();
        var r = Verification.Evaluate(scores, sub.Select(p => p.Same).ToArray(), sub.Select(p => p.Fold).ToArray());
        Assert.InRange(r.Accuracy, 0.55, 0.80);
    }
}
