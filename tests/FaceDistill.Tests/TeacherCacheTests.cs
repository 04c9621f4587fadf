using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Data.Synthetic;
using FaceDistill.Distillation.Teachers;
using FaceDistill.Training;

namespace FaceDistill.Tests;

public class TeacherCacheTests
{
    private static DataLoaderOptions Prep(int size) => new() { BatchSize = 8, ImageSize = size, Workers = 1 };

    [ZooFact]
    public void CachedRowsEqualTheOnlineTeacherAndInvalidateOnChange()
    {
        var dir = TestUtil.TempDir();
        var data = new SyntheticFaces(new SyntheticOptions { Identities = 3, ImagesPerIdentity = 4, Size = 48, Seed = 5 });
        using var teacher = ZooTeacher.Load("expression");
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
        }
        using (var again = TeacherOutputCache.OpenOrBuild(teacher, "zoo:expression|v1", data, Prep(48), dir)) Assert.False(again.WasBuilt);
        // another teacher version, another preprocessing → new files; nothing stale is read
        using (var other = TeacherOutputCache.OpenOrBuild(teacher, "zoo:expression|v2", data, Prep(48), dir)) Assert.True(other.WasBuilt);
        using (var other = TeacherOutputCache.OpenOrBuild(teacher, "zoo:expression|v1", data, Prep(40), dir)) Assert.True(other.WasBuilt);
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
        var online = TestUtil.Tiny("zoo-online", epochs: 1) with { Distill = new DistillConfig { Method = "feature", Teacher = "zoo:recognition" } };
        var r1 = TrainingRun.Execute(online, root, ExistingRun.Refuse);
        var cached = online with { Name = "zoo-cached", Distill = online.Distill with { Cache = true, CacheDir = Path.Combine(root, "cache") } };
        var r2 = TrainingRun.Execute(cached, root, ExistingRun.Refuse);
        Assert.True(double.IsFinite(r1.Result.FinalLoss) && double.IsFinite(r2.Result.FinalLoss));
        Assert.Single(Directory.GetFiles(Path.Combine(root, "cache"), "teacher-*.bin"));
        // logit KD needs logits over the student's classes, which zoo nets do not have: a config error, not a crash
        var bad = online with { Distill = new DistillConfig { Method = "kd", Teacher = "zoo:recognition" } };
        Assert.Contains("distill.method", Assert.Throws<FaceDistillException>(() => ConfigValidator.Validate(bad, "test")).Message);
    }
}
