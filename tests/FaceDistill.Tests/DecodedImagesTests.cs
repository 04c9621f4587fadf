using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Data.Synthetic;
using FaceDistill.Evaluation;
using FaceDistill.Models;
using FaceDistill.Runs;
using static TorchSharp.torch;

namespace FaceDistill.Tests;

public class DecodedImagesTests
{
    /// <summary>A folder of 12 PNGs and one JPEG of different sizes, as a file-backed dataset.</summary>
    private static FileFaceDataset Folder(out string root)
    {
        root = TestUtil.TempDir();
        var faces = new SyntheticFaces(
            new SyntheticOptions
            {
                Identities = 3,
                ImagesPerIdentity = 4,
                Size = 40,
            }
        );
        SyntheticDatasetWriter.Write(faces, root);
        ImageCodec.Save(faces.Image(0).Crop(0, 0, 36, 30), Path.Combine(root, "id00000", "odd.jpg"));
        return FileFaceDataset.FromImageFolder(root, FaceTask.Recognition);
    }

    [Fact]
    public void ServesTheSamePixelsAsTheFilesAndIsBuiltOnce()
    {
        var data = Folder(out _);
        var dir = TestUtil.TempDir();
        using var store = DecodedImages.OpenOrBuild(data, dir)!;
        Assert.True(store.Built);
        var served = store.Serve(data);
        Assert.Equal(13, served.Count);
        for (int i = 0; i < data.Count; i++)
        {
            var a = data.Image(i);
            var b = served.Image(i);
            Assert.Equal((a.Width, a.Height), (b.Width, b.Height));
            Assert.Equal(a.Pixels, b.Pixels);
            Assert.Equal(data.Labels(i).Identity, served.Labels(i).Identity);
            Assert.Equal(data.Describe(i), served.Describe(i));
        }
        Assert.Contains(Enumerable.Range(0, data.Count), i => data.Image(i).Width == 36);
        using var again = DecodedImages.OpenOrBuild(data, dir)!;
        Assert.False(again.Built);
        Assert.Single(Directory.GetFiles(dir)); // no temporary file left beside it
    }

    [Fact]
    public void AChangedFileSelectsANewStoreAndADamagedStoreIsBuiltAgain()
    {
        var data = Folder(out var root);
        var dir = TestUtil.TempDir();
        string first;
        using (var store = DecodedImages.OpenOrBuild(data, dir)!)
            first = store.Path;
        // a changed image: a new key, so the stale pixels are never served
        var path = data.Describe(2);
        ImageCodec.Save(new RgbImage(40, 40, Enumerable.Repeat((byte)200, 40 * 40 * 3).ToArray()), path);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
        var changed = FileFaceDataset.FromImageFolder(root, FaceTask.Recognition);
        string second;
        using (var store = DecodedImages.OpenOrBuild(changed, dir)!)
        {
            second = store.Path;
            Assert.NotEqual(first, second);
            Assert.True(store.Built);
            Assert.All(store.Serve(changed).Image(2).Pixels, p => Assert.Equal(200, p));
        }
        // a truncated store is not read: it is built again, whole
        var bytes = File.ReadAllBytes(second);
        File.WriteAllBytes(second, bytes[..(bytes.Length - 100)]);
        using var rebuilt = DecodedImages.OpenOrBuild(changed, dir)!;
        Assert.True(rebuilt.Built);
        Assert.Equal(bytes.Length, new FileInfo(second).Length);
        Assert.Equal(changed.Image(7).Pixels, rebuilt.Serve(changed).Image(7).Pixels);
    }

    [Fact]
    public void AnUndecodableImageStillFailsNamingItsFileAndTheRestAreServed()
    {
        var data = Folder(out _);
        File.WriteAllText(data.Describe(5), "not an image");
        var dir = TestUtil.TempDir();
        using var store = DecodedImages.OpenOrBuild(data, dir)!;
        var served = store.Serve(data);
        var e = Assert.Throws<FaceDistillException>(() => served.Image(5));
        Assert.Contains(data.Describe(5), e.Message);
        Assert.Equal(data.Image(6).Pixels, served.Image(6).Pixels);
    }

    [Fact]
    public void NoStoreForImagesThatAreNotFilesOrThatWouldExceedTheLimit()
    {
        var dir = TestUtil.TempDir();
        Assert.Null(DecodedImages.OpenOrBuild(TestUtil.Faces(2, 2, 32, 1), dir));
        var data = Folder(out _);
        Assert.Null(DecodedImages.OpenOrBuild(data, dir, maxBytes: 1000));
        Assert.Empty(Directory.GetFiles(dir));
        // served lazily, a dataset without a store still gives its images, decoded from the files
        var lazily = DecodedImages.ServeLazily(TestUtil.Faces(2, 2, 32, 1), dir);
        Assert.Equal(TestUtil.Faces(2, 2, 32, 1).Image(1).Pixels, lazily.Image(1).Pixels);
    }

    [Fact]
    public void EmbeddingsFromTheStoreAreBitIdenticalToThoseFromTheFiles()
    {
        var data = Folder(out _);
        var served = DecodedImages.ServeLazily(data, TestUtil.TempDir());
        manual_seed(3);
        using var net = Backbones.Create("mobilefacenet", 32, 16);
        var a = Embedder.Embed(net, data, 1.0, flip: true, batchSize: 5);
        var b = Embedder.Embed(net, served, 1.0, flip: true, batchSize: 5);
        for (int i = 0; i < a.Length; i++)
            Assert.Equal(a[i], b[i]);
    }

    [Fact]
    public void TheRunsEvaluationPairsAreServedFromTheStore()
    {
        // an LFW-shaped folder (root/Name/Name_0001.png) and a one-fold pair list over it
        var data = Folder(out _);
        var root = TestUtil.TempDir();
        foreach (var (name, k) in new[] { ("Ann_Lee", 0), ("Ann_Lee", 1), ("Bo_Chan", 4) })
        {
            Directory.CreateDirectory(Path.Combine(root, name));
            int n = Directory.GetFiles(Path.Combine(root, name)).Length + 1;
            File.Copy(data.Describe(k), Path.Combine(root, name, $"{name}_{n:D4}.png"));
        }
        var pairs = Path.Combine(TestUtil.TempDir(), "pairs.txt");
        File.WriteAllLines(pairs, ["1\t1", "Ann_Lee\t1\t2", "Ann_Lee\t1\tBo_Chan\t1"]);
        var cfg = TestUtil.Tiny("decoded");
        cfg = cfg with { Eval = cfg.Eval with { Pairs = pairs, Images = root } };
        var run = RunData.From(cfg);
        Assert.NotNull(run.Pairs);
        Assert.Equal(3, run.Pairs!.Images.Count);
        for (int i = 0; i < 3; i++)
            Assert.Equal(ImageCodec.Load(run.Pairs.Images.Describe(i)).Pixels, run.Pairs.Images.Image(i).Pixels);
        var key = DatasetFingerprint.Of(run.Pairs.Images, 32, "decoded-rgb-v1");
        Assert.True(File.Exists(Path.Combine(RunData.DecodedCacheDir, key + ".rgb")));
    }
}
