using FaceDistill.Distillation;
using FaceDistill.Models.Heads;
using static TorchSharp.torch;

namespace FaceDistill.Tests;

public class DdlMultiFaceTests
{
    [Fact]
    public void PairSimilaritiesArePositivePairsAndHardestNegatives()
    {
        // unit vectors at angles 0°, 10° (id 0) and 90°, 60° (id 1)
        double R(double deg) => deg * Math.PI / 180;
        var v = new[] { 0.0, 10, 90, 60 }.SelectMany(a => new[] { Math.Cos(R(a)), Math.Sin(R(a)) }).ToArray();
        using var e = tensor(v, [4, 2], ScalarType.Float64);
        using var y = tensor(new long[] { 0, 0, 1, 1 });
        var (pos, neg) = DistributionDistillationLoss.PairSimilarities(e, y);
        Assert.Equal(
            new[] { Math.Cos(R(10)), Math.Cos(R(30)) },
            pos.data<double>().ToArray().Select(x => Math.Round(x, 9)).Order().Reverse().ToArray(),
            new ToleranceComparer()
        );
        // hardest negatives: 0°→60° (cos 60), 10°→60° (cos 50), 90°→10° (cos 80), 60°→10° (cos 50)
        Assert.Equal(
            new[] { Math.Cos(R(60)), Math.Cos(R(50)), Math.Cos(R(80)), Math.Cos(R(50)) },
            neg.data<double>().ToArray(),
            new ToleranceComparer()
        );
    }

    private sealed class ToleranceComparer : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) < 1e-6;

        public int GetHashCode(double x) => 0;
    }

    [Fact]
    public void SoftHistogramIsNormalisedAndPeaksAtTheValue()
    {
        using var s = tensor(new[] { 0.5, 0.5, 0.5 }, ScalarType.Float64);
        using var h = DistributionDistillationLoss.SoftHistogram(s, 21, 0.1);
        Assert.Equal(1.0, h.sum().item<double>(), 6); // up to the ε that guards the normaliser
        Assert.Equal(15, h.argmax().item<long>()); // bin centres −1, −0.9, …, 0.5 is bin 15
    }

    [Fact]
    public void IdenticalBranchesLeaveOnlyTheOrderTerms()
    {
        manual_seed(5);
        using var e = randn(8, 16, ScalarType.Float64);
        using var y = tensor(new long[] { 0, 0, 1, 1, 2, 2, 3, 3 });
        using var loss = DistributionDistillationLoss.Loss(e, y, e, y, null, out var parts);
        Assert.Equal(0, parts.PositiveKl, 9);
        Assert.Equal(0, parts.NegativeKl, 9);
        var (pos, neg) = DistributionDistillationLoss.PairSimilarities(e, y);
        double order = 2 * (neg.mean().item<double>() - pos.mean().item<double>());
        Assert.Equal(0.5 * order, loss.item<double>(), 9);
    }

    [Fact]
    public void DegradedBranchIsPulledTowardsTheEasyDistribution()
    {
        manual_seed(6);
        using var easy = randn(8, 16, ScalarType.Float64);
        using var hard = (easy + randn(8, 16, ScalarType.Float64) * 1.5).requires_grad_(true);
        using var y = tensor(new long[] { 0, 0, 1, 1, 2, 2, 3, 3 });
        using var loss = DistributionDistillationLoss.Loss(easy, y, hard, y, null, out var before);
        Assert.True(before.PositiveKl > 0 && before.NegativeKl > 0);
        loss.backward();
        Assert.True(hard.grad!.isfinite().all().item<bool>() && hard.grad.abs().sum().item<double>() > 0);
        // a few gradient steps on the hard branch lower the KL to the easy distribution
        var h = hard.detach().clone().requires_grad_(true);
        double first = before.PositiveKl + before.NegativeKl,
            last = first;
        for (int i = 0; i < 30; i++)
        {
            using var l = DistributionDistillationLoss.Loss(easy, y, h, y, null, out var p);
            last = p.PositiveKl + p.NegativeKl;
            l.backward();
            using (no_grad())
            {
                h.sub_(h.grad! * 0.5);
                h.grad!.zero_();
            }
        }
        Assert.True(last < first, $"KL did not fall: {first} → {last}");
    }

    [Fact]
    public void MultiFaceSplitsTheEmbeddingAndAveragesTheGroupLosses()
    {
        manual_seed(2);
        using var head = new MultiFaceHead(12, 3, d => CombinedMarginHead.ArcFace(d, 5, s: 8));
        using var x = randn(4, 12);
        using var y = tensor(new long[] { 0, 1, 2, 4 });
        using var z = head.call(x, y);
        Assert.Equal([4L, 3, 5], z.shape);
        // group 1 sees only dimensions 4..7: changing the others leaves its logits unchanged
        using var x2 = x.clone();
        using (no_grad())
        {
            x2[TensorIndex.Colon, TensorIndex.Slice(0, 4)].fill_(3);
            x2[TensorIndex.Colon, TensorIndex.Slice(8, 12)].fill_(-1);
        }
        using var z2 = head.call(x2, y);
        Assert.True((z.select(1, 1) - z2.select(1, 1)).abs().max().item<float>() < 1e-5);
        Assert.True((z.select(1, 0) - z2.select(1, 0)).abs().max().item<float>() > 1e-3);
        // loss = mean of the per-group cross-entropies
        double manual = Enumerable
            .Range(0, 3)
            .Average(k => nn.functional.cross_entropy(z.select(1, k), y).item<float>());
        Assert.Equal(manual, head.Loss(z, y).item<float>(), 4);
        using var pred = head.call(x, null);
        Assert.Equal([4L, 5], pred.shape);
        Assert.Throws<ArgumentException>(() => new MultiFaceHead(10, 3, d => new SoftmaxHead(d, 5)));
    }

    [Fact]
    public void MultiFaceWithFullHeadAddsItsWeightedLoss()
    {
        manual_seed(4);
        using var full = new SoftmaxHead(8, 3);
        using var head = new MultiFaceHead(8, 2, d => new SoftmaxHead(d, 3), full, fullWeight: 0.5);
        using var x = randn(5, 8);
        using var y = tensor(new long[] { 0, 1, 2, 0, 1 });
        using var z = head.call(x, y);
        Assert.Equal([5L, 3, 3], z.shape);
        double groups =
            (
                nn.functional.cross_entropy(z.select(1, 0), y).item<float>()
                + nn.functional.cross_entropy(z.select(1, 1), y).item<float>()
            ) / 2;
        double expected = groups + 0.5 * nn.functional.cross_entropy(full.call(x, y), y).item<float>();
        Assert.Equal(expected, head.Loss(z, y).item<float>(), 4);
    }
}
