using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Data.Synthetic;

namespace FaceDistill.Tests;

public class DataTests
{
    private static RgbImage Gradient(int w, int h)
    {
        var img = new RgbImage(w, h);
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
        {
            int o = (y * w + x) * 3;
            img.Pixels[o] = (byte)(x * 255 / (w - 1));
            img.Pixels[o + 1] = (byte)(y * 255 / (h - 1));
            img.Pixels[o + 2] = 100;
        }
        return img;
    }

    [Fact]
    public void PngRoundTripAndGrayAndRgbaLoad()
    {
        var dir = TestUtil.TempDir();
        var img = Gradient(20, 10);
        ImageCodec.Save(img, Path.Combine(dir, "a.png"));
        var back = ImageCodec.Load(Path.Combine(dir, "a.png"));
        Assert.Equal(img.Pixels, back.Pixels);

        using var gray = new SkiaSharp.SKBitmap(new SkiaSharp.SKImageInfo(4, 4, SkiaSharp.SKColorType.Gray8));
        gray.Erase(new SkiaSharp.SKColor(77, 77, 77));
        ImageCodec.SaveBitmap(gray, Path.Combine(dir, "g.png"));
        var g = ImageCodec.Load(Path.Combine(dir, "g.png"));
        Assert.All(g.Pixels, v => Assert.InRange(v, 76, 78));

        using var rgba = new SkiaSharp.SKBitmap(
            new SkiaSharp.SKImageInfo(4, 4, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Unpremul)
        );
        rgba.Erase(new SkiaSharp.SKColor(200, 100, 50, 255));
        ImageCodec.SaveBitmap(rgba, Path.Combine(dir, "c.png"));
        var c = ImageCodec.Load(Path.Combine(dir, "c.png"));
        Assert.Equal(200, c.Pixels[0]);
        Assert.Equal(100, c.Pixels[1]);
        Assert.Equal(50, c.Pixels[2]);
    }

    [Fact]
    public void CorruptTruncatedAndMissingImagesAreNamed()
    {
        var dir = TestUtil.TempDir();
        var garbage = Path.Combine(dir, "garbage.jpg");
        File.WriteAllBytes(garbage, [1, 2, 3, 4, 5, 6, 7, 8]);
        var e = Assert.Throws<FaceDistillException>(() => ImageCodec.Load(garbage));
        Assert.StartsWith(garbage + ":", e.Message);

        var good = Path.Combine(dir, "good.jpg");
        var noise = new RgbImage(64, 64);
        new Random(1).NextBytes(noise.Pixels); // incompressible, so a third of the file is past the header
        ImageCodec.Save(noise, good);
        var bytes = File.ReadAllBytes(good);
        var cut = Path.Combine(dir, "cut.jpg");
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 3)]);
        e = Assert.Throws<FaceDistillException>(() => ImageCodec.Load(cut));
        Assert.StartsWith(cut + ":", e.Message);
        Assert.Contains("truncated", e.Message);

        e = Assert.Throws<FaceDistillException>(() => ImageCodec.Load(Path.Combine(dir, "none.png")));
        Assert.Contains("not found", e.Message);
        var empty = Path.Combine(dir, "empty.png");
        File.WriteAllBytes(empty, []);
        Assert.Contains("empty", Assert.Throws<FaceDistillException>(() => ImageCodec.Load(empty)).Message);
    }

    [Fact]
    public void ReadsBinaryPgm()
    {
        var p = Path.Combine(TestUtil.TempDir(), "f.pgm");
        File.WriteAllBytes(p, [.. "P5\n# c\n2 2\n255\n"u8.ToArray(), 0, 100, 200, 255]);
        var img = ImageCodec.Load(p);
        Assert.Equal(2, img.Width);
        Assert.Equal([0, 0, 0, 100, 100, 100, 200, 200, 200, 255, 255, 255], img.Pixels);
        File.WriteAllBytes(p, [.. "P5\n2 2\n255\n"u8.ToArray(), 0, 100]);
        Assert.Contains("truncated", Assert.Throws<FaceDistillException>(() => ImageCodec.Load(p)).Message);
    }

    [Fact]
    public void UtkFaceNamesParse()
    {
        Assert.True(FileFaceDataset.TryParseUtkName("26_1_2_20170116174525125.jpg.chip.jpg", out var age, out var g));
        Assert.Equal(26, age);
        Assert.Equal(1, g);
        // the file without a race field
        Assert.True(FileFaceDataset.TryParseUtkName("39_1_20170116174525125.jpg.chip.jpg", out age, out _));
        Assert.Equal(39, age);
        Assert.False(FileFaceDataset.TryParseUtkName("x_1_2_3.jpg", out _, out _));
        Assert.False(FileFaceDataset.TryParseUtkName("30_5_2_3.jpg", out _, out _));
    }

    [Fact]
    public void ImageFolderAndCsvReaders()
    {
        var dir = TestUtil.TempDir();
        foreach (var cls in new[] { "happy", "sad" })
            for (int i = 0; i < 3; i++)
                ImageCodec.Save(Gradient(8, 8), Path.Combine(dir, cls, $"{i}.png"));
        var fer = FileFaceDataset.FromImageFolder(dir, FaceTask.Expression);
        Assert.Equal(6, fer.Count);
        Assert.Equal((int)Expression.Happy, fer.Labels(0).Expression);
        Assert.Equal((int)Expression.Sad, fer.Labels(5).Expression);
        var ids = FileFaceDataset.FromImageFolder(dir, FaceTask.Recognition);
        Assert.Equal(2, ids.ClassCount(FaceTask.Recognition));

        File.WriteAllText(
            Path.Combine(dir, "labels.csv"),
            "path,identity,age,gender\nhappy/0.png,ann,31,1\nsad/1.png,bob,40.5,0\n"
        );
        var csv = FileFaceDataset.FromCsv(Path.Combine(dir, "labels.csv"));
        Assert.Equal(2, csv.Count);
        Assert.Equal(40.5f, csv.Labels(1).Age);
        Assert.Equal(1, csv.Labels(1).Identity);
        File.WriteAllText(Path.Combine(dir, "bad.csv"), "path,age\nhappy/0.png,old\n");
        var e = Assert.Throws<FaceDistillException>(() => FileFaceDataset.FromCsv(Path.Combine(dir, "bad.csv")));
        Assert.Contains("bad.csv: line 2: age 'old'", e.Message);
        var bad = Path.Combine(TestUtil.TempDir(), "angry-not");
        ImageCodec.Save(Gradient(8, 8), Path.Combine(bad, "grumpy", "0.png"));
        Assert.Contains(
            "'grumpy' is not an expression class",
            Assert.Throws<FaceDistillException>(() => FileFaceDataset.FromImageFolder(bad, FaceTask.Expression)).Message
        );
    }

    [Fact]
    public void LfwPairListParsesAndRejectsMalformedLines()
    {
        var dir = TestUtil.TempDir();
        foreach (var (n, k) in new[] { ("Ann", 1), ("Ann", 2), ("Bob", 1), ("Cy", 1) })
            ImageCodec.Save(Gradient(8, 8), Path.Combine(dir, "lfw", n, $"{n}_{k:D4}.jpg"));
        var pairs = Path.Combine(dir, "pairs.txt");
        File.WriteAllText(pairs, "2 1\nAnn 1 2\nBob 1 Cy 1\nAnn 2 1\nAnn 1 Bob 1\n");
        var pl = PairList.LoadLfw(pairs, Path.Combine(dir, "lfw"));
        Assert.Equal(4, pl.Pairs.Count);
        Assert.Equal(2, pl.Folds);
        Assert.Equal(4, pl.Images.Count);
        Assert.True(pl.Pairs[0].Same);
        Assert.False(pl.Pairs[1].Same);
        Assert.Equal(1, pl.Pairs[3].Fold);

        File.WriteAllText(pairs, "2 1\nAnn 1 2\nBob 1 Cy 1\nAnn 2 1\n");
        Assert.Contains(
            "header promises",
            Assert.Throws<FaceDistillException>(() => PairList.LoadLfw(pairs, Path.Combine(dir, "lfw"))).Message
        );
        File.WriteAllText(pairs, "1 1\nAnn 1 9\nBob 1 Cy 1\n");
        var e = Assert.Throws<FaceDistillException>(() => PairList.LoadLfw(pairs, Path.Combine(dir, "lfw")));
        Assert.Contains("line 2: image", e.Message);
        File.WriteAllText(pairs, "1 1\nAnn x 2\nBob 1 Cy 1\n");
        Assert.Contains(
            "line 2: 'x' is not an image number",
            Assert.Throws<FaceDistillException>(() => PairList.LoadLfw(pairs, Path.Combine(dir, "lfw"))).Message
        );
        File.WriteAllText(pairs, "banana\n");
        Assert.Contains(
            "line 1: expected a header",
            Assert.Throws<FaceDistillException>(() => PairList.LoadLfw(pairs, Path.Combine(dir, "lfw"))).Message
        );
    }

    [Fact]
    public void SyntheticFacesAreDeterministicAndLabelled()
    {
        var a = new SyntheticFaces(
            new SyntheticOptions
            {
                Identities = 3,
                ImagesPerIdentity = 4,
                Size = 64,
                Seed = 5,
            }
        );
        var b = new SyntheticFaces(
            new SyntheticOptions
            {
                Identities = 3,
                ImagesPerIdentity = 4,
                Size = 64,
                Seed = 5,
            }
        );
        var c = new SyntheticFaces(
            new SyntheticOptions
            {
                Identities = 3,
                ImagesPerIdentity = 4,
                Size = 64,
                Seed = 6,
            }
        );
        Assert.Equal(a.Image(5).Pixels, b.Image(5).Pixels);
        Assert.NotEqual(a.Image(5).Pixels, c.Image(5).Pixels);
        Assert.NotEqual(a.Image(4).Pixels, a.Image(5).Pixels);
        var l = a.Labels(5);
        Assert.Equal(1, l.Identity);
        Assert.InRange(l.Expression, 0, 6);
        Assert.InRange(l.Gender, 0, 1);
        Assert.InRange(l.Age, 1, 90);
        Assert.Equal(a.Labels(4).Age, a.Labels(7).Age); // attributes belong to the person
        var (_, lm) = a.Render(5);
        Assert.Equal(136, lm.Length);
        Assert.All(lm, v => Assert.InRange(v, -8, 72));
        // the left eye is left of the right eye, the nose tip between the eyes and the mouth
        Assert.True(lm[2 * 36] < lm[2 * 45]);
        Assert.InRange(lm[2 * 30 + 1], lm[2 * 36 + 1], lm[2 * 57 + 1]);
    }

    [Fact]
    public void SyntheticExpressionsAndAttributesAllOccur()
    {
        var s = new SyntheticFaces(
            new SyntheticOptions
            {
                Identities = 60,
                ImagesPerIdentity = 8,
                Size = 32,
            }
        );
        var labels = Enumerable.Range(0, s.Count).Select(s.Labels).ToArray();
        Assert.Equal(7, labels.Select(l => l.Expression).Distinct().Count());
        Assert.Equal(2, labels.Select(l => l.Gender).Distinct().Count());
        Assert.True(labels.Max(l => l.Age) - labels.Min(l => l.Age) > 30);
    }

    [Fact]
    public void LoaderIsDeterministicAndCanStartAtAnyBatch()
    {
        var ds = new SyntheticFaces(
            new SyntheticOptions
            {
                Identities = 4,
                ImagesPerIdentity = 6,
                Size = 32,
            }
        );
        var opt = new DataLoaderOptions
        {
            BatchSize = 5,
            ImageSize = 24,
            Seed = 3,
            Workers = 3,
            Augment = new AugmentOptions
            {
                Flip = true,
                ScaleMin = 0.8,
                ScaleMax = 1,
                Shift = 0.1,
                Brightness = 0.3,
            },
        };
        var a = new DataLoader(ds, opt).Epoch(1).ToList();
        var b = new DataLoader(ds, opt with { Workers = 1 }).Epoch(1).ToList();
        Assert.Equal(4, a.Count); // 24 / 5, drop last
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].Indices, b[i].Indices);
            Assert.Equal(a[i].Pixels, b[i].Pixels);
        }
        var tail = new DataLoader(ds, opt).Epoch(1, startBatch: 2).ToList();
        Assert.Equal(a[2].Pixels, tail[0].Pixels);
        var other = new DataLoader(ds, opt).Epoch(2).ToList();
        Assert.NotEqual(a[0].Indices, other[0].Indices);
        Assert.All(a[0].Pixels, v => Assert.InRange(v, -1f, 1f));
    }

    [Fact]
    public void ViewsOfASampleShareTheRandomCropSoTheyStayPixelAligned()
    {
        // a view that blacks out the lower half (like a mask) must line up with the clean view under random crop + flip
        var ds = new SyntheticFaces(
            new SyntheticOptions
            {
                Identities = 2,
                ImagesPerIdentity = 4,
                Size = 48,
            }
        );
        var masked = new FaceView(
            "occluded",
            (img, _, _) =>
            {
                var copy = new RgbImage(img.Width, img.Height, (byte[])img.Pixels.Clone());
                Array.Clear(copy.Pixels, copy.Pixels.Length / 2, copy.Pixels.Length / 2);
                return copy;
            }
        );
        var loader = new DataLoader(
            ds,
            new DataLoaderOptions
            {
                BatchSize = 4,
                ImageSize = 32,
                Seed = 9,
                Views = [FaceView.Clean, masked],
                Augment = new AugmentOptions
                {
                    Flip = true,
                    ScaleMin = 0.8,
                    ScaleMax = 1,
                    Shift = 0.1,
                },
            }
        );
        var b = loader.Epoch(0).First();
        var clean = b.Views["clean"];
        var occ = b.Views["occluded"];
        int plane = 32 * 32;
        // top rows (well above the cut, whatever the crop) are identical; the bottom rows of the occluded view are
        // black
        for (int k = 0; k < b.Count; k++)
        for (int x = 0; x < 32; x++)
        {
            Assert.Equal(clean[k * 3 * plane + 2 * 32 + x], occ[k * 3 * plane + 2 * 32 + x]);
            Assert.Equal(-1f, occ[k * 3 * plane + 30 * 32 + x]);
        }
        Assert.NotEqual(clean, occ);
    }

    [Fact]
    public void LoaderSkipsOrFailsOnBadImages()
    {
        var dir = TestUtil.TempDir();
        for (int i = 0; i < 4; i++)
            ImageCodec.Save(Gradient(8, 8), Path.Combine(dir, "a", $"{i}.png"));
        File.WriteAllBytes(Path.Combine(dir, "a", "9.png"), [0, 1, 2]);
        var ds = FileFaceDataset.FromImageFolder(dir, FaceTask.Recognition);
        var skip = new DataLoader(
            ds,
            new DataLoaderOptions
            {
                BatchSize = 5,
                ImageSize = 8,
                Shuffle = false,
                DropLast = false,
            }
        );
        var batches = skip.Epoch(0).ToList();
        Assert.Equal(5, batches[0].Count);
        Assert.Single(skip.BadImages);
        Assert.Contains("9.png", skip.BadImages.Values.Single());
        var fail = new DataLoader(
            ds,
            new DataLoaderOptions
            {
                BatchSize = 5,
                ImageSize = 8,
                Shuffle = false,
                OnBadImage = BadImagePolicy.Fail,
            }
        );
        var e = Assert.Throws<FaceDistillException>(() => fail.Epoch(0).ToList());
        Assert.Contains("9.png", e.Message);
    }

    [Fact]
    public void AugmentFlipMirrorsAndIdentityResizeKeepsPixels()
    {
        var img = Gradient(16, 16);
        var plain = new float[3 * 16 * 16];
        Augment.ToTensorData(img, 16, 1, AugmentOptions.None, null, plain);
        Assert.Equal(img.Pixels[0] / 255f * 2 - 1, plain[0], 4);
        Assert.Equal(img.Pixels[15 * 3] / 255f * 2 - 1, plain[15], 4);
        // a seed whose first draws flip: search deterministic seeds for a flip
        var flipped = new float[plain.Length];
        for (int s = 0; ; s++)
        {
            var rng = new Random(s);
            Augment.ToTensorData(img, 16, 1, new AugmentOptions { Flip = true }, rng, flipped);
            if (Math.Abs(flipped[0] - plain[15]) < 1e-5)
                break;
            Assert.True(s < 50);
        }
        for (int x = 0; x < 16; x++)
            Assert.Equal(plain[x], flipped[15 - x], 5);
    }

    [Fact]
    public void PairsFromIdentitiesAreBalancedAndCorrect()
    {
        var ds = new SyntheticFaces(
            new SyntheticOptions
            {
                Identities = 20,
                ImagesPerIdentity = 3,
                Size = 32,
            }
        );
        var pl = PairList.FromIdentities(ds, 10, 4, 1);
        Assert.Equal(80, pl.Pairs.Count);
        foreach (var p in pl.Pairs)
        {
            Assert.NotEqual(p.A, p.B);
            Assert.Equal(p.Same, ds.Labels(p.A).Identity == ds.Labels(p.B).Identity);
        }
        Assert.Equal(40, pl.Pairs.Count(p => p.Same));
    }
}
