using FaceDistill.Evaluation;

namespace FaceDistill.Tests;

/// <summary>Classification reports read back from disk are the computed ones (metrics, confusion, per-image
/// correctness); the computation runs once; a damaged file is recomputed.</summary>
public class ClassificationCacheTests
{
    [Fact]
    public void AReportIsComputedOnceAndReadBackWhole()
    {
        var dir = TestUtil.TempDir();
        int calls = 0;
        EvalReport Compute()
        {
            calls++;
            var confusion = new int[,]
            {
                { 3, 1 },
                { 0, 2 },
            };
            return new EvalReport(
                "classification",
                new Dictionary<string, double> { ["acc"] = 5 / 6.0, ["balanced_acc"] = 0.875 },
                new ClassificationResult(5 / 6.0, confusion, [true, true, false, true, true, true])
            );
        }
        var first = ClassificationCache.GetOrCompute(dir, "k", Compute);
        var again = ClassificationCache.GetOrCompute(dir, "k", Compute);
        Assert.Equal(1, calls);
        Assert.Equal(first.Protocol, again.Protocol);
        Assert.Equal(first.Metrics.OrderBy(kv => kv.Key), again.Metrics.OrderBy(kv => kv.Key));
        var (a, b) = ((ClassificationResult)first.Detail, (ClassificationResult)again.Detail);
        Assert.Equal(a.Accuracy, b.Accuracy);
        Assert.Equal(a.Confusion, b.Confusion);
        Assert.Equal(a.Correct, b.Correct);
        File.WriteAllText(Path.Combine(dir, "k.cls.json"), "{ damaged");
        ClassificationCache.GetOrCompute(dir, "k", Compute);
        Assert.Equal(2, calls);
        // not a classification: passed through, never stored
        var other = ClassificationCache.GetOrCompute(
            dir,
            "r",
            () => new EvalReport("regression", new Dictionary<string, double> { ["mae"] = 1 }, new object())
        );
        Assert.Equal("regression", other.Protocol);
        Assert.False(File.Exists(Path.Combine(dir, "r.cls.json")));
    }
}
