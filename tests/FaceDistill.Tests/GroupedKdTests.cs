using FaceDistill.Distillation;
using static TorchSharp.torch;

namespace FaceDistill.Tests;

public class GroupedKdTests
{
    private static Tensor T(double[] v, long n, long c) => tensor(v, [n, c], ScalarType.Float64);

    [Fact]
    public void FullKlEqualsBinaryPlusMassWeightedGroupKls()
    {
        manual_seed(7);
        using var zt = randn(6, 10, ScalarType.Float64) * 3;
        using var zs = randn(6, 10, ScalarType.Float64) * 3;
        using var y = tensor(new long[] { 0, 3, 9, 2, 2, 5 });
        foreach (
            var rule in new[]
            {
                PrimaryGroupRule.CumulativeProbability,
                PrimaryGroupRule.TopK,
                PrimaryGroupRule.TargetOnly,
            }
        )
        {
            using var pt = softmax(zt / 4, 1);
            using var mask = GroupedKlDecomposition.PrimaryMask(pt, y, rule, 0.93, 3);
            using var parts = GroupedKlDecomposition.Decompose(zt, zs, mask, 4);
            using var logPt = nn.functional.log_softmax(zt / 4, 1);
            using var logPs = nn.functional.log_softmax(zs / 4, 1);
            using var full = (logPt.exp() * (logPt - logPs)).sum(1);
            using var recomposed =
                parts.Binary
                + parts.TeacherPrimaryMass * parts.Primary
                + (1 - parts.TeacherPrimaryMass) * parts.Secondary;
            Assert.True((full - recomposed).abs().max().item<double>() < 1e-6, $"identity fails for {rule}");
        }
    }

    [Fact]
    public void PrimaryGroupIsTopClassesUntilThresholdPlusTarget()
    {
        // teacher probabilities 0.5, 0.3, 0.15, 0.05: τ = 0.7 keeps {0, 1} (mass before class 1 is 0.5 < 0.7, before
        // class 2 is 0.8 ≥ 0.7); the target class 3 joins
        using var p = T([0.5, 0.3, 0.15, 0.05], 1, 4);
        using var y = tensor(new long[] { 3 });
        using var m = GroupedKlDecomposition.PrimaryMask(p, y, PrimaryGroupRule.CumulativeProbability, 0.7, 0);
        Assert.Equal([true, true, false, true], m[0].data<bool>().ToArray());
        using var k1 = GroupedKlDecomposition.PrimaryMask(p, tensor(new long[] { 0 }), PrimaryGroupRule.TopK, 0, k: 2);
        Assert.Equal([true, true, false, false], k1[0].data<bool>().ToArray());
        using var t = GroupedKlDecomposition.PrimaryMask(
            p,
            tensor(new long[] { 2 }),
            PrimaryGroupRule.TargetOnly,
            0,
            0
        );
        Assert.Equal([false, false, true, false], t[0].data<bool>().ToArray());
    }

    [Fact]
    public void BinaryKlMatchesHandComputation()
    {
        // T = 1, logits chosen as log-probabilities: teacher [0.6, 0.3, 0.1], student [0.2, 0.5, 0.3], P = {0, 1}
        using var zt = T([Math.Log(0.6), Math.Log(0.3), Math.Log(0.1)], 1, 3);
        using var zs = T([Math.Log(0.2), Math.Log(0.5), Math.Log(0.3)], 1, 3);
        using var mask = tensor(new[] { true, true, false }, [1, 3]);
        using var parts = GroupedKlDecomposition.Decompose(zt, zs, mask, 1);
        double binary = 0.9 * Math.Log(0.9 / 0.7) + 0.1 * Math.Log(0.1 / 0.3);
        double primary = 2.0 / 3 * Math.Log(2.0 / 3 / (0.2 / 0.7)) + 1.0 / 3 * Math.Log(1.0 / 3 / (0.5 / 0.7));
        Assert.Equal(binary, parts.Binary.item<double>(), 6);
        Assert.Equal(primary, parts.Primary.item<double>(), 6);
        Assert.Equal(0.0, parts.Secondary.item<double>(), 6); // one class in S: renormalised both are 1
    }

    [Fact]
    public void GkdIsAlphaBinaryPlusBetaPrimaryTimesTSquaredAndDropsSecondary()
    {
        manual_seed(3);
        using var zt = randn(4, 8, ScalarType.Float64) * 2;
        using var zs = randn(4, 8, ScalarType.Float64) * 2;
        using var y = tensor(new long[] { 1, 2, 3, 4 });
        using var pt = softmax(zt / 4, 1);
        using var mask = GroupedKlDecomposition.PrimaryMask(pt, y, PrimaryGroupRule.CumulativeProbability, 0.93, 0);
        using var parts = GroupedKlDecomposition.Decompose(zt, zs, mask, 4);
        double expected = 16 * (parts.Binary.mean().item<double>() + 4 * parts.Primary.mean().item<double>());
        using var gkd = GroupedKd.Loss(zt, zs, y, 4, 1, 4, 0.93, 0);
        Assert.Equal(expected, gkd.item<double>(), 6);
        // Hinton KD equals the full KL times T²
        using var kd = HintonKd.Loss(zt, zs, 4);
        double full = (
            parts.Binary + parts.TeacherPrimaryMass * parts.Primary + (1 - parts.TeacherPrimaryMass) * parts.Secondary
        )
            .mean()
            .item<double>();
        Assert.Equal(16 * full, kd.item<double>(), 6);
        Assert.Equal(0.5, GroupedKlDecomposition.Ramp(5, 10), 9);
        Assert.Equal(1.0, GroupedKlDecomposition.Ramp(30, 10), 9);
    }

    [Fact]
    public void ExtremeLogitsStayFiniteAndGradientsFlowToTheStudentOnly()
    {
        // margin logits with s = 64 saturate softmax: the group masses underflow; ε keeps the logs finite
        using var zt = tensor(new float[] { 64, -64, -64, -64, 0, 0, 0, 64 }, [2, 4]);
        using var zs = tensor(new float[] { -64, 64, -64, -64, 64, 0, 0, -64 }, [2, 4]).requires_grad_(true);
        using var y = tensor(new long[] { 0, 3 });
        foreach (
            var loss in new[]
            {
                GroupedKd.Loss(zt, zs, y, 1, 1, 4, 0.93, 0),
                DecoupledKd.Loss(zt, zs, y, 1, 1, 8),
                HintonKd.Loss(zt, zs, 1),
            }
        )
        {
            Assert.True(float.IsFinite(loss.item<float>()));
            loss.backward();
            Assert.True(zs.grad!.isfinite().all().item<bool>());
            zs.grad.zero_();
            loss.Dispose();
        }
        Assert.False(zt.requires_grad);
    }

    [Fact]
    public void IdenticalLogitsGiveZeroLoss()
    {
        using var z = tensor(new float[] { 1, 2, 3, 0.5f, 0.1f, 4 }, [2, 3]);
        using var y = tensor(new long[] { 2, 0 });
        Assert.Equal(0, GroupedKd.Loss(z, z, y, 4, 1, 4, 0.93, 0).item<float>(), 4);
        Assert.Equal(0, DecoupledKd.Loss(z, z, y, 4, 1, 8).item<float>(), 4);
    }
}
