using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Data.Synthetic;
using FaceDistill.Omni;
using static TorchSharp.torch;

namespace FaceDistill.Tests;

/// <summary>Omni-supervised FER: the feature store, mining, and dataset condensation.</summary>
public class OmniTests
{
    /// <summary>Unit vectors around class directions e_c (D = 16, 3 classes) with a posterior favouring
    /// <paramref name="predicted"/>.</summary>
    private static float[] Row(int cls, int predicted, float conf, Random rng, int d = 16, int classes = 3)
    {
        var f = new float[d + classes];
        for (int j = 0; j < d; j++)
            f[j] = (float)(0.1 * rng.NextGaussian());
        f[cls] += 1;
        var norm = MathF.Sqrt(f.Take(d).Sum(x => x * x));
        for (int j = 0; j < d; j++)
            f[j] /= norm;
        for (int c = 0; c < classes; c++)
            f[d + c] = c == predicted ? conf : (1 - conf) / (classes - 1);
        return f;
    }

    private static (float[] Labelled, int[] Labels) LabelledSet(Random rng, int perClass = 20, int d = 16)
    {
        var feats = new List<float>();
        var labels = new List<int>();
        for (int c = 0; c < 3; c++)
        for (int i = 0; i < perClass; i++)
        {
            feats.AddRange(Row(c, c, 1, rng).Take(d));
            labels.Add(c);
        }
        return (feats.ToArray(), labels.ToArray());
    }

    private static FeatureStore Store(string dir, IReadOnlyList<float[]> rows)
    {
        var store = FeatureStore.OpenOrCreate(Path.Combine(dir, "pool.f16"), rows.Count, rows[0].Length, "test");
        store.Append(rows.SelectMany(r => r).ToArray());
        return store;
    }

    [Fact]
    public void MiningPicksConfidentFacesNearTheirClassAndRejectsTheRest()
    {
        var rng = new Random(1);
        var (lab, labels) = LabelledSet(rng);
        var rows = new List<float[]>();
        var truth = new List<int>();
        // 0..29: class 0 faces, confidently class 0 — all should be mined
        for (int i = 0; i < 30; i++, truth.Add(0))
            rows.Add(Row(0, 0, 0.95f, rng));
        // 30..39: class 1 faces the classifier confidently calls class 2 — features disagree, prototype rule rejects
        for (int i = 0; i < 10; i++, truth.Add(1))
            rows.Add(Row(1, 2, 0.95f, rng));
        // 40..49: class 2 faces with a low confidence — rejected by τ_p
        for (int i = 0; i < 10; i++, truth.Add(2))
            rows.Add(Row(2, 2, 0.4f, rng));
        using var store = Store(TestUtil.TempDir(), rows);
        var mined = ConfidentMining.Mine(lab, labels, 3, store, new MiningOptions(QuotaRatio: 0));
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)i).Order(), mined.Select(m => m.Index).Order());
        Assert.All(mined, m => Assert.Equal(0, m.Class));
        Assert.All(mined, m => Assert.Equal(1f, m.Vote));
        // the confidence rule alone (plain pseudo-labelling) takes the confidently misclassified faces too
        var loose = ConfidentMining.Mine(lab, labels, 3, store, new MiningOptions(Rule: "confidence", QuotaRatio: 0));
        Assert.Equal(40, loose.Count);
        var summary = MiningSummary.Of(loose, 3, i => truth[(int)i]);
        Assert.Equal(30.0 / 40, summary.Precision, 9);
        Assert.Equal([30, 0, 10], summary.Mined);
        Assert.Equal(0, summary.ClassPrecision(2));
        Assert.True(double.IsNaN(summary.ClassPrecision(1)));
    }

    [Fact]
    public void QuotasKeepTheBestScoresPerClass()
    {
        var rng = new Random(2);
        var (lab, labels) = LabelledSet(rng, perClass: 5);
        var rows = new List<float[]>();
        for (int i = 0; i < 40; i++)
            rows.Add(Row(i % 2, i % 2, 0.81f + 0.004f * i, rng));
        using var store = Store(TestUtil.TempDir(), rows);
        // quotaRatio 2 × 5 labelled = 10 per class; the absolute quota 7 is tighter
        var byRatio = ConfidentMining.Mine(lab, labels, 3, store, new MiningOptions(K: 3, QuotaRatio: 2));
        Assert.Equal(20, byRatio.Count);
        var mined = ConfidentMining.Mine(lab, labels, 3, store, new MiningOptions(K: 3, Quota: 7, QuotaRatio: 2));
        Assert.Equal(7, mined.Count(m => m.Class == 0));
        Assert.Equal(7, mined.Count(m => m.Class == 1));
        foreach (var c in new[] { 0, 1 })
        {
            var kept = mined.Where(m => m.Class == c).Select(m => m.Score).Min();
            var all = Enumerable.Range(0, 40).Where(i => i % 2 == c).ToList();
            // by index: the two calls may run on different libtorch thread counts (tests run in parallel), so their
            // float scores can differ in the last bits
            var dropped = byRatio.Where(m => m.Class == c && !mined.Any(k => k.Index == m.Index)).ToList();
            Assert.Equal(3, dropped.Count);
            Assert.All(dropped, m => Assert.True(m.Score <= kept + 1e-5));
            Assert.Equal(20, all.Count);
        }
        Assert.Equal(
            [7, 7, 0],
            ConfidentMining
                .Quotas([20, 30, 1], new MiningOptions(Quota: 7, QuotaRatio: 0.5))
                .Take(2)
                .Append(ConfidentMining.Quotas([1], new MiningOptions(QuotaRatio: 0.5))[0])
        );
    }

    [Fact]
    public void MiningRefusesAClassWithoutLabelledFaces()
    {
        var rng = new Random(3);
        var (lab, labels) = LabelledSet(rng, perClass: 3);
        using var store = Store(TestUtil.TempDir(), [Row(0, 0, 0.9f, rng, classes: 4)]);
        var e = Assert.Throws<FaceDistillException>(() =>
            ConfidentMining.Mine(lab, labels, 4, store, new MiningOptions())
        );
        Assert.Contains("class 3 has no labelled face", e.Message);
        Assert.Throws<FaceDistillException>(() => new MiningOptions(Rule: "vibes").Check());
        Assert.Throws<FaceDistillException>(() => new MiningOptions(MinConfidence: double.NaN).Check());
    }

    [Fact]
    public void FeatureStoreResumesWhereItStoppedAndRejectsForeignFiles()
    {
        var dir = TestUtil.TempDir();
        var path = Path.Combine(dir, "f.f16");
        var rows = Enumerable.Range(0, 12).Select(i => (float)(i * 0.25)).ToArray();
        using (var s = FeatureStore.OpenOrCreate(path, 4, 3, "k"))
            s.Append(rows.AsSpan(0, 6));
        using (var s = FeatureStore.OpenOrCreate(path, 4, 3, "k"))
        {
            Assert.Equal(2, s.Filled);
            s.Append(rows.AsSpan(6, 6));
            Assert.True(s.Complete);
            var back = new float[12];
            s.Read(0, 4, back);
            Assert.Equal(rows, back);
        }
        Assert.Contains(
            "expected",
            Assert.Throws<FaceDistillException>(() => FeatureStore.OpenOrCreate(path, 5, 3, "k")).Message
        );
        File.WriteAllText(
            Path.Combine(dir, "bad.f16"),
            "not a store at all, but long enough to have a header.........."
        );
        Assert.Throws<FaceDistillException>(() => FeatureStore.OpenRead(Path.Combine(dir, "bad.f16")));
    }

    private static SyntheticFaces Faces(int identities = 12, int images = 6) =>
        new(
            new SyntheticOptions
            {
                Identities = identities,
                ImagesPerIdentity = images,
                Size = 32,
                Seed = 5,
            }
        );

    [Fact]
    public void FeatureExtractionKilledHalfwayEndsWithTheSameStore()
    {
        var faces = Faces();
        using var model = FaceDistill.Models.ModelFactory.Create(
            new Config.RunSettings
            {
                Task = "expression",
                Data = new Config.DataConfig { ImageSize = 32 },
                Model = new Config.ModelConfig { Head = new Config.HeadConfig { Type = "softmax" } },
            },
            7,
            30
        );
        var dirA = TestUtil.TempDir();
        using (var full = FeatureExtraction.Extract(model, "m", faces, 32, dirA, batchSize: 16))
            Assert.True(full.Complete);
        var dirB = TestUtil.TempDir();
        using var cancel = new CancellationTokenSource();
        int batches = 0;
        var reporter = Progress.Reporter;
        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            Progress.Reporter = new CancelAfter(cancel, () => ++batches == 3);
            try
            {
                FeatureExtraction.Extract(model, "m", faces, 32, dirB, batchSize: 16, cancel: cancel.Token);
            }
            finally
            {
                Progress.Reporter = reporter;
            }
        });
        var partial = Directory.GetFiles(dirB).Single();
        using (var p = FeatureStore.OpenRead(partial))
            Assert.InRange(p.Filled, 16, faces.Count - 1);
        using (var resumed = FeatureExtraction.Extract(model, "m", faces, 32, dirB, batchSize: 16))
            Assert.True(resumed.Complete);
        Assert.Equal(File.ReadAllBytes(Directory.GetFiles(dirA).Single()), File.ReadAllBytes(partial));
    }

    [Fact]
    public void AnImageThatCannotBeDecodedCostsAZeroRowNotTheExtraction()
    {
        var faces = Faces(3, 3);
        var dir = Path.Combine(TestUtil.TempDir(), "pool");
        for (int i = 0; i < faces.Count; i++)
            ImageCodec.Save(faces.Image(i), Path.Combine(dir, $"{i}.png"));
        // a PNG whose header is fine (the pool's scan keeps it) but whose pixels are cut off
        var bytes = File.ReadAllBytes(Path.Combine(dir, "0.png"));
        File.WriteAllBytes(Path.Combine(dir, "0.png"), bytes[..60]);
        var pool = FacePool.Open([new PoolSource(dir, "pool")], TestUtil.TempDir());
        Assert.Equal(faces.Count, pool.Count);
        using var model = FaceDistill.Models.ModelFactory.Create(
            new Config.RunSettings
            {
                Task = "expression",
                Data = new Config.DataConfig { ImageSize = 32 },
                Model = new Config.ModelConfig { Head = new Config.HeadConfig { Type = "softmax" } },
            },
            7,
            30
        );
        using var store = FeatureExtraction.Extract(model, "m", pool, 32, TestUtil.TempDir(), batchSize: 4);
        Assert.True(store.Complete);
        var skipped = FeatureExtraction.Skipped(store);
        Assert.Single(skipped);
        Assert.Contains("0.png", skipped[0]);
        int bad = Enumerable.Range(0, pool.Count).Single(i => pool.Describe(i).EndsWith("0.png"));
        Assert.All(store.Row(bad), v => Assert.Equal(0f, v));
        Assert.Contains(store.Row((bad + 1) % pool.Count), v => v != 0);
        // mined with every threshold open, the unreadable face is still never picked
        var lab = Enumerable.Range(0, 7).SelectMany(c => store.Row((bad + 1) % pool.Count).Take(128)).ToArray();
        var mined = ConfidentMining.Mine(
            lab,
            [0, 1, 2, 3, 4, 5, 6],
            7,
            store,
            new MiningOptions(Rule: "confidence", MinConfidence: 0, QuotaRatio: 0)
        );
        Assert.DoesNotContain(mined, m => m.Index == bad);
        Assert.Equal(pool.Count - 1, mined.Count);
    }

    /// <summary>Cancels when <paramref name="when"/> says so (at a progress update).</summary>
    private sealed class CancelAfter(CancellationTokenSource cts, Func<bool> when) : IProgressReporter
    {
        public IProgressTask Start(string description, long total) => new Task(cts, when);

        private sealed class Task(CancellationTokenSource cts, Func<bool> when) : IProgressTask
        {
            public void Update(long done, string status = "")
            {
                if (done > 0 && when())
                    cts.Cancel();
            }

            public void Dispose() { }
        }
    }

    [Theory]
    [InlineData("dm")]
    [InlineData("gm")]
    public void CondensationLowersItsLossAndMovesTheImages(string algorithm)
    {
        var faces = Faces(20, 6);
        var o = new CondenseOptions(
            Algorithm: algorithm,
            ImagesPerClass: 2,
            Iterations: algorithm == "dm" ? 30 : 6,
            LearningRate: algorithm == "dm" ? 1 : 0.1,
            RealBatch: 16,
            NetWidth: 16,
            NetDepth: 2,
            OuterLoop: 4,
            InnerLoop: 2,
            Seed: 3
        );
        var set = DatasetCondensation.Run(faces, i => faces.Labels(i).Expression, 7, 32, o, TestUtil.TempDir());
        Assert.Equal(set.Labels.Length * 3 * 32 * 32, set.Pixels.Length);
        Assert.All(set.Losses, l => Assert.True(double.IsFinite(l)));
        int k = Math.Max(1, set.Losses.Count / 4);
        Assert.True(
            set.Losses.TakeLast(k).Average() < set.Losses.Take(k).Average(),
            $"loss {string.Join(", ", set.Losses.Select(l => l.ToString("G3")))}"
        );
        Assert.True(set.MovedFromInit > 1e-3, $"images moved {set.MovedFromInit}");
    }

    [Fact]
    public void CondensationResumesToTheSameImages()
    {
        var faces = Faces(20, 6);
        var o = new CondenseOptions(
            ImagesPerClass: 2,
            Iterations: 8,
            RealBatch: 8,
            NetWidth: 8,
            NetDepth: 2,
            SaveEvery: 3,
            Seed: 4
        );
        var whole = DatasetCondensation.Run(faces, i => faces.Labels(i).Expression, 7, 32, o, TestUtil.TempDir());
        var state = TestUtil.TempDir();
        // a first run that stops after 5 iterations (its snapshot is at 3), then the full run from the snapshot
        DatasetCondensation.Run(faces, i => faces.Labels(i).Expression, 7, 32, o with { Iterations = 5 }, state);
        var snapshot = CondensationState.Read(Path.Combine(state, "condense-state.bin"), whole.Pixels.Length)!;
        Assert.Equal(5, snapshot.Losses.Count);
        var resumed = DatasetCondensation.Run(faces, i => faces.Labels(i).Expression, 7, 32, o, state);
        Assert.Equal(whole.Losses, resumed.Losses);
        Assert.Equal(whole.Pixels, resumed.Pixels);
    }

    [Fact]
    public void SelectionsAndShortClassesAreCountedNotCrashed()
    {
        var faces = Faces(6, 4); // 24 faces over 7 expressions: some classes hold fewer than 5
        int Cls(int i) => faces.Labels(i).Expression;
        var random = DatasetCondensation.Run(faces, Cls, 7, 32, new CondenseOptions("random", 5), TestUtil.TempDir());
        for (int c = 0; c < 7; c++)
        {
            int have = Enumerable.Range(0, faces.Count).Count(i => Cls(i) == c);
            Assert.Equal(Math.Min(5, have), random.Labels.Count(y => y == c));
        }
        Assert.NotEmpty(random.Notes);
        Assert.Empty(random.Losses);
        var e = Assert.Throws<FaceDistillException>(() =>
            DatasetCondensation.Run(faces, _ => -1, 7, 32, new CondenseOptions("random", 5), TestUtil.TempDir())
        );
        Assert.Contains("nothing to condense", e.Message);
        Assert.Throws<FaceDistillException>(() => new CondenseOptions("magic").Check());
        Assert.Throws<FaceDistillException>(() => new CondenseOptions(ImagesPerClass: 0).Check());
    }

    [Fact]
    public void ConvNetStartsFromPyTorchsInitialisation()
    {
        // TorchSharp 0.107 leaves GroupNorm's γ, β uninitialised; the ConvNet must not inherit garbage
        for (int k = 0; k < 5; k++)
        {
            using var net = new ConvNet(7, 32, 16, 2);
            using var x = rand(4, 3, 32, 32) * 2 - 1;
            using var e = net.Embed(x);
            Assert.False(e.isnan().any().item<bool>());
            Assert.InRange(e.abs().max().item<float>(), 1e-3f, 100f);
        }
    }

    [Fact]
    public void HerdingPicksTheImagesWhoseMeanTracksTheClassMean()
    {
        // the mean is (1.025, 0.75): (1.1, 0) is nearest and comes first; three distinct picks follow
        var f = new[] { new[] { 2f, 0f }, new[] { 1.1f, 0f }, new[] { 0f, 0f }, new[] { 1f, 3f } };
        var picks = Herding.Select(f, 3);
        Assert.Equal(1, picks[0]);
        Assert.Equal(3, picks.Length);
        Assert.Equal(picks.Length, picks.Distinct().Count());
        Assert.Empty(Herding.Select([], 3));
    }

    [Fact]
    public void SiameseAugmentationTransformsRealAndSyntheticAlike()
    {
        var dsa = new SiameseAugmentation(7);
        var w = dsa.Sample(4);
        using var x = rand(4, 3, 16, 16) * 2 - 1;
        using var a = SiameseAugmentation.Apply(x, w);
        using var b = SiameseAugmentation.Apply(x.narrow(0, 0, 2), w);
        Assert.True(a.narrow(0, 0, 2).allclose(b, 1e-5, 1e-5));
        Assert.False(a.allclose(x));
        using var leaf = x.clone().requires_grad_(true);
        SiameseAugmentation.Apply(leaf, w).sum().backward();
        Assert.True(leaf.grad!.abs().sum().item<float>() > 0);
    }
}
