using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Distillation;
using FaceDistill.Models.Heads;
using static TorchSharp.torch;

namespace FaceDistill.Tests;

/// <summary>Identity labels where a face pool has them (<c>data.identities</c>), and a margin loss that leaves the
/// faces without one alone.</summary>
public class PoolIdentitiesTests
{
    private static void Face(string path, byte shade)
    {
        var img = new RgbImage(8, 8);
        Array.Fill(img.Pixels, shade);
        ImageCodec.Save(img, path);
    }

    [Fact]
    public void FacesInIdentityFoldersCarryTheirPersonAndOthersNone()
    {
        var root = TestUtil.TempDir();
        string a = Path.Combine(root, "celeb"),
            b = Path.Combine(root, "utk");
        Face(Path.Combine(a, "p2", "1.png"), 10);
        Face(Path.Combine(a, "p1", "1.png"), 20);
        Face(Path.Combine(a, "p1", "2.png"), 30);
        Face(Path.Combine(a, "loose.png"), 40);
        Face(Path.Combine(b, "p1", "1.png"), 50); // a subfolder of a folder not listed: no identity
        var pool = FacePool.Open([PoolSource.Of(a), PoolSource.Of(b)], Path.Combine(root, "cache")).Distinct();
        var ids = new PoolIdentities(pool, [a + "/"]);
        Assert.Equal(["celeb/p1", "celeb/p2"], ids.Classes);
        Assert.Equal(2, ids.ClassCount(FaceTask.Recognition));
        Assert.Equal(0, ids.ClassCount(FaceTask.Expression));
        Assert.Equal(3, ids.Labelled);
        var byName = Enumerable
            .Range(0, ids.Count)
            .ToDictionary(i => Path.GetRelativePath(root, ids.Describe(i)), i => ids.Labels(i).Identity);
        Assert.Equal(1, byName["celeb/p2/1.png"]);
        Assert.Equal(0, byName["celeb/p1/1.png"]);
        Assert.Equal(0, byName["celeb/p1/2.png"]);
        Assert.Equal(-1, byName["celeb/loose.png"]);
        Assert.Equal(-1, byName["utk/p1/1.png"]);
        // two listed folders of the same name keep their people apart
        string c = Path.Combine(root, "more", "celeb");
        Face(Path.Combine(c, "p1", "1.png"), 60);
        var both = FacePool.Open([PoolSource.Of(a), PoolSource.Of(c)], Path.Combine(root, "cache")).Distinct();
        Assert.Equal(["celeb/p1", "celeb/p1", "celeb/p2"], new PoolIdentities(both, [a, c]).Classes);
        // a margin loss needs two people
        var one = Assert.Throws<FaceDistillException>(() => new PoolIdentities(pool, [b]));
        Assert.Contains("data.identities", one.Message);
        Assert.Contains(b, one.Message);
    }

    [Fact]
    public void TheMarginLeavesFacesWithoutIdentityAlone()
    {
        manual_seed(5);
        using var cos = rand(3, 4) * 2 - 1;
        using var labels = tensor(new long[] { 1, -1, 2 });
        using var z = CombinedMarginHead.MarginLogits(cos, labels, 30, 1, 0.5, 0);
        using var expected = cos * 30;
        // the face without identity keeps every plain logit; the others change only at their own class
        Assert.True((z[1] - expected[1]).abs().max().item<float>() < 1e-5);
        using var changed = (z - expected).abs().gt(1e-5);
        Assert.Equal(2L, changed.sum().item<long>());
        Assert.True(changed[0, 1].item<bool>() && changed[2, 2].item<bool>());
        // the pool's task loss: one-hot rows for the labelled faces, none for the other, averaged over the labelled
        using var logits = rand(3, 4);
        var batch = new Batch
        {
            Count = 3,
            Size = 8,
            Views = [],
            Labels = [new FaceLabels(Identity: 1), new FaceLabels(), new FaceLabels(Identity: 2)],
            Indices = [0, 1, 2],
        };
        var (soft, n) = Objective.SoftTargets(batch, labels, logits);
        using var _ = soft;
        Assert.Equal(2, n);
        var head = CombinedMarginHead.ArcFace(4, 4);
        using var pooled = head.SoftLoss(logits, soft!) * (3.0 / n);
        using var labelled = nn.functional.cross_entropy(
            logits[tensor(new long[] { 0, 2 })],
            tensor(new long[] { 1, 2 })
        );
        Assert.Equal(labelled.item<float>(), pooled.item<float>(), 5);
    }
}
