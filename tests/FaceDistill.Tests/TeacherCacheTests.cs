using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Data.Synthetic;
using FaceDistill.Distillation;
using FaceDistill.Distillation.Teachers;
using FaceDistill.Training;
using TorchSharp;

namespace FaceDistill.Tests;

public class TeacherCacheTests
{
    private static DataLoaderOptions Prep(int size) =>
        new()
        {
            BatchSize = 8,
            ImageSize = size,
            Workers = 1,
        };

    [ZooFact]
    public void CachedRowsEqualTheOnlineTeacherAndInvalidateOnChange()
    {
        var dir = TestUtil.TempDir();
        var data = new SyntheticFaces(
            new SyntheticOptions
            {
                Identities = 3,
                ImagesPerIdentity = 4,
                Size = 48,
                Seed = 5,
            }
        );
        using var teacher = ZooTeacher.Load("expression");
        {
            // the teacher's logits come in FaceDistill's (FER2013's) class order, not face-api's: KD compares like
            // classes
            var b0 = new DataLoader(data, Prep(48) with { Shuffle = false, DropLast = false }).Epoch(0).First();
            using var x0 = b0.Tensor();
            using var mean = TorchSharp.torch.tensor(new[] { 122.782f, 117.001f, 104.298f }).view(1, 3, 1, 1);
            using var input = TorchSharp.torch.nn.functional.interpolate(
                x0,
                [112, 112],
                mode: TorchSharp.torch.InterpolationMode.Bilinear,
                align_corners: false
            );
            using var net = FaceDistill.Faces.Zoo.FaceExpressionNet.Load();
            var raw = net.Forward(((input + 1) * 127.5f - mean) / 255f).data<float>().ToArray();
            var mapped = teacher.Run(x0).Logits!.data<float>().ToArray();
            // Expression.Happy (3) is face-api's "happy" (1); Expression.Neutral (4) is face-api's "neutral" (0)
            Assert.Equal(raw[1], mapped[(int)Expression.Happy], 4);
            Assert.Equal(raw[0], mapped[(int)Expression.Neutral], 4);
            Assert.Equal(raw[5], mapped[(int)Expression.Disgust], 4);
        }
        using (var cache = TeacherOutputCache.OpenOrBuild(teacher, "zoo:expression|v1", data, Prep(48), dir))
        {
            Assert.True(cache.WasBuilt);
            Assert.Equal((12, 256, 7), (cache.Count, cache.EmbeddingSize, cache.LogitSize));
            // the same images run online, in a different order
            var batch = new DataLoader(data, Prep(48) with { Shuffle = false, DropLast = false }).Epoch(0).First();
            using var x = batch.Tensor();
            var online = teacher.Run(x);
            var idx = batch.Indices.Reverse().ToArray();
            var rows = cache.Rows(idx);
            var expect = online.Logits!.data<float>().ToArray();
            var got = rows.Logits!.data<float>().ToArray();
            for (int k = 0; k < idx.Length; k++)
            for (int c = 0; c < 7; c++)
                Assert.Equal(expect[(idx.Length - 1 - k) * 7 + c], got[k * 7 + c], 5);
            // the pool mean label-free distillation centres its targets with: the mean of every cached embedding
            using var all = cache.Rows(Enumerable.Range(0, cache.Count).ToArray()).Embedding!;
            var mean = all.mean([0]).data<float>().ToArray();
            var cached = cache.MeanEmbedding()!;
            Assert.Equal(256, cached.Length);
            for (int k = 0; k < 256; k++)
                Assert.Equal(mean[k], cached[k], 4);
        }
        using (var again = TeacherOutputCache.OpenOrBuild(teacher, "zoo:expression|v1", data, Prep(48), dir))
            Assert.False(again.WasBuilt);
        // another teacher version, another preprocessing → new files; nothing stale is read
        using (var other = TeacherOutputCache.OpenOrBuild(teacher, "zoo:expression|v2", data, Prep(48), dir))
            Assert.True(other.WasBuilt);
        using (var other = TeacherOutputCache.OpenOrBuild(teacher, "zoo:expression|v1", data, Prep(40), dir))
            Assert.True(other.WasBuilt);
        Assert.Equal(3, Directory.GetFiles(dir, "teacher-*.bin").Length);
        // a damaged file is a one-line error naming it
        var f = Directory.GetFiles(dir, "teacher-*.bin")[0];
        File.WriteAllBytes(f, File.ReadAllBytes(f)[..100]);
        var e = Assert.Throws<FaceDistillException>(() =>
        {
            foreach (var p in new[] { 48, 40 })
            foreach (var v in new[] { "v1", "v2" })
                TeacherOutputCache.OpenOrBuild(teacher, $"zoo:expression|{v}", data, Prep(p), dir).Dispose();
        });
        Assert.StartsWith(f, e.Message);
    }

    [ZooFact]
    public void FeatureKdFromTheZooRecognitionNetTrainsWithAndWithoutCache()
    {
        var root = TestUtil.TempDir();
        var online = TestUtil.Tiny("zoo-online", epochs: 1) with
        {
            Distill = new DistillConfig { Method = "feature", Teacher = "zoo:recognition" },
        };
        var r1 = TrainingRun.Execute(online, root, ExistingRun.Refuse);
        var cached = online with
        {
            Name = "zoo-cached",
            Distill = online.Distill with { Cache = true, CacheDir = Path.Combine(root, "cache") },
        };
        var r2 = TrainingRun.Execute(cached, root, ExistingRun.Refuse);
        Assert.True(double.IsFinite(r1.Result.FinalLoss) && double.IsFinite(r2.Result.FinalLoss));
        Assert.Single(Directory.GetFiles(Path.Combine(root, "cache"), "teacher-*.bin"));
        // logit KD needs logits over the student's classes, which face-api's expression net has only in its own class
        // set: a config error, not a crash
        var bad = online with
        {
            Task = "gender",
            Distill = new DistillConfig { Method = "kd", Teacher = "zoo:expression" },
        };
        Assert.Contains(
            "distill.method",
            Assert.Throws<FaceDistillException>(() => RunConfig.Resolve(bad, "test").Settings).Message
        );
    }

    [Fact]
    public void CentroidLogitsAreScaledCosinesToTheNormalisedCentroids()
    {
        // centroids (1, 0) and (0, 2) → unit (1, 0), (0, 1); e = (3, 4) → cos = 0.6, 0.8; s = 10
        using var c = new CentroidLogits(
            new float[,]
            {
                { 1, 0 },
                { 0, 2 },
            },
            10
        );
        using var e = torch.tensor(new float[] { 3, 4, -2, 0 }).view(2, 2);
        var z = c.Logits(e).data<float>().ToArray();
        Assert.Equal(new[] { 6f, 8f, -10f, 0f }, z.Select(v => MathF.Round(v, 4)).ToArray());
        Assert.Throws<FaceDistillException>(() =>
            new CentroidLogits(
                new float[,]
                {
                    { 1 },
                },
                0
            )
        );
        // centred: e = (3, 4) → unit (0.6, 0.8); minus m = (0.6, 0) → (0, 0.8) → (0, 1); cos to (1, 0), (0, 1) = 0, 1
        using var centred = new CentroidLogits(
            new float[,]
            {
                { 1, 0 },
                { 0, 2 },
            },
            10,
            [0.6f, 0]
        );
        using var e1 = torch.tensor(new float[] { 3, 4 }).view(1, 2);
        Assert.Equal(
            new[] { 0f, 10f },
            centred.Logits(e1).data<float>().ToArray().Select(v => MathF.Round(v, 4)).ToArray()
        );
    }

    [ZooFact]
    public void EmbeddingTeacherGetsCentroidLogitsThatKnowTheTrainingIdentities()
    {
        // the zoo's recognition net has no logits; under GKD it gets s·cos to the identity centroids of its own cached
        // embeddings, which must classify the (synthetic) training identities far above chance
        var root = TestUtil.TempDir();
        var cfg = TestUtil.Tiny("zoo-gkd", epochs: 1) with
        {
            Distill = new DistillConfig
            {
                Method = "gkd",
                Teacher = "zoo:recognition",
                CacheDir = Path.Combine(root, "cache"),
            }.With(LogitDistillation.RampEpochs, 0.0),
        };
        RunConfig.Resolve(cfg, "test");
        var run = TrainingRun.Execute(cfg, root, ExistingRun.Refuse);
        Assert.True(double.IsFinite(run.Result.FinalLoss));
        var train = run.Data.Train;
        using var teacher = ZooTeacher.Load("recognition");
        using var cache = TeacherOutputCache.OpenOrBuild(
            teacher,
            TeacherFactory.Fingerprint("zoo:recognition"),
            train,
            new DataLoaderOptions
            {
                BatchSize = cfg.Train.BatchSize,
                ImageSize = cfg.Data.ImageSize,
                CenterCrop = cfg.Data.CenterCrop,
            },
            Path.Combine(root, "cache")
        );
        Assert.False(cache.WasBuilt); // the run built it
        using var centroids = CentroidLogits.FromCache(cache, train, FaceTask.Recognition, run.Data.Classes, 32);
        var idx = Enumerable.Range(0, train.Count).ToArray();
        var rows = cache.Rows(idx);
        var z = centroids.Logits(rows.Embedding!);
        var pred = z.argmax(1).data<long>().ToArray();
        double acc = idx.Count(i => pred[i] == train.Labels(i).Identity) / (double)idx.Length;
        Assert.True(acc > 5.0 / run.Data.Classes, $"centroid accuracy {acc:P1} with {run.Data.Classes} identities");
        Assert.Equal(run.Data.Classes, (int)z.shape[1]);
    }

    [Fact]
    public void EmbeddingsAreComputedOnceAndADamagedCacheFileIsRebuilt()
    {
        var dir = TestUtil.TempDir();
        int calls = 0;
        float[][] Compute()
        {
            calls++;
            return
            [
                [1f, 2f, 3f],
                [4f, 5f, 6f],
            ];
        }
        var first = FaceDistill.Evaluation.EmbeddingCache.GetOrCompute(dir, "k", Compute);
        var second = FaceDistill.Evaluation.EmbeddingCache.GetOrCompute(dir, "k", Compute);
        Assert.Equal(1, calls);
        Assert.Equal(first[1], second[1]);
        // another key is another file
        FaceDistill.Evaluation.EmbeddingCache.GetOrCompute(dir, "other", Compute);
        Assert.Equal(2, calls);
        // a truncated file does not match its header: computed again, and rewritten whole
        var file = Path.Combine(dir, "k.emb");
        File.WriteAllBytes(file, File.ReadAllBytes(file)[..20]);
        var third = FaceDistill.Evaluation.EmbeddingCache.GetOrCompute(dir, "k", Compute);
        Assert.Equal(3, calls);
        Assert.Equal([4f, 5f, 6f], third[1]);
        Assert.Equal(16 + 4 * 6, new FileInfo(file).Length);
    }
}
