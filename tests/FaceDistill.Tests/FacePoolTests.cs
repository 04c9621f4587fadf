using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Data.Synthetic;

namespace FaceDistill.Tests;

public class FacePoolTests
{
    private static (string A, string B) Folders()
    {
        var root = TestUtil.TempDir();
        string a = Path.Combine(root, "a"),
            b = Path.Combine(root, "b");
        SyntheticDatasetWriter.Write(
            new SyntheticFaces(
                new SyntheticOptions
                {
                    Identities = 3,
                    ImagesPerIdentity = 4,
                    Size = 48,
                }
            ),
            a
        );
        SyntheticDatasetWriter.Write(
            new SyntheticFaces(
                new SyntheticOptions
                {
                    Identities = 2,
                    ImagesPerIdentity = 3,
                    Size = 48,
                    Seed = 9,
                }
            ),
            b
        );
        File.WriteAllText(Path.Combine(b, "broken.png"), "not an image at all");
        File.Copy(Path.Combine(a, "id00000", "000.png"), Path.Combine(b, "copy.png"));
        return (a, b);
    }

    [Fact]
    public void ScansOnceIntoAManifestSkipsWhatIsNoImageAndKnowsLabelsWhereGiven()
    {
        var (a, b) = Folders();
        var cache = TestUtil.TempDir();
        var sources = new[] { new PoolSource(a, "a", rel => rel.Split('/')[0]), new PoolSource(b, "b") };
        var pool = FacePool.Open(sources, cache);
        Assert.True(pool.WasScanned);
        Assert.Equal(12 + 6 + 1, pool.Count);
        var skip = Assert.Single(pool.Skipped);
        Assert.EndsWith("broken.png", skip.Path);
        Assert.Equal(1, pool.Duplicates);
        Assert.Equal(18, pool.Distinct().Count);
        Assert.All(pool.Items.Where(i => i.Source == "a"), i => Assert.StartsWith("id", i.KnownLabel));
        Assert.All(pool.Items.Where(i => i.Source == "b"), i => Assert.Null(i.KnownLabel));
        Assert.All(pool.Items, i => Assert.Equal((48, 48), (i.Width, i.Height)));
        // the second open reads the manifest; a changed folder is scanned again
        var again = FacePool.Open(sources, cache);
        Assert.False(again.WasScanned);
        Assert.Equal(pool.Items.Select(i => i.Sha256), again.Items.Select(i => i.Sha256));
        File.Copy(Path.Combine(a, "id00001", "000.png"), Path.Combine(b, "another.png"));
        Assert.True(FacePool.Open(sources, cache).WasScanned);
    }

    [Fact]
    public void StreamsInBatchesInASeededOrderAndFractionsAreSeeded()
    {
        var (a, b) = Folders();
        var pool = FacePool.Open([new PoolSource(a, "a"), new PoolSource(b, "b")], TestUtil.TempDir());
        var options = new DataLoaderOptions
        {
            BatchSize = 5,
            ImageSize = 32,
            Shuffle = true,
            DropLast = false,
            Seed = 3,
            Workers = 2,
        };
        int[] Order() => new DataLoader(pool, options).Epoch(0).SelectMany(batch => batch.Indices).ToArray();
        var first = Order();
        Assert.Equal(first, Order());
        Assert.Equal(Enumerable.Range(0, pool.Count), first.Order());
        Assert.Equal(pool.Fraction(0.5, 1).Count, (int)Math.Round(pool.Count * 0.5));
        Assert.Equal(
            Enumerable.Range(0, 9).Select(i => pool.Fraction(0.5, 1).Describe(i)),
            Enumerable.Range(0, 9).Select(i => pool.Fraction(0.5, 1).Describe(i))
        );
        Assert.Throws<FaceDistillException>(() => pool.Fraction(0, 1));
    }

    [Fact]
    public void AnEmptyPoolIsAnErrorNamingTheFolder()
    {
        var empty = TestUtil.TempDir();
        File.WriteAllText(Path.Combine(empty, "x.png"), "no");
        var e = Assert.Throws<FaceDistillException>(() =>
            FacePool.Open([new PoolSource(empty, "e")], TestUtil.TempDir())
        );
        Assert.Contains(empty, e.Message);
    }
}
