using FaceDistill.Models.Heads;
using static TorchSharp.torch;

namespace FaceDistill.Tests;

public class MarginHeadTests
{
    private static float[] Row(Tensor t, int r) => t[r].data<float>().ToArray();

    [Fact]
    public void ArcFaceMarginMatchesHandComputation()
    {
        // cos θ_target = 0.6 → θ = 0.927295; ArcFace target = cos(θ + 0.5) = 0.6·cos0.5 − 0.8·sin0.5 = 0.143008
        using var cos = tensor(new float[] { 0.6f, 0.2f, -0.1f, 0.3f, 0.9f, 0.0f }, [2, 3]);
        using var y = tensor(new long[] { 0, 1 });
        using var z = CombinedMarginHead.MarginLogits(cos, y, 10, 1, 0.5, 0);
        double t0 = 0.6 * Math.Cos(0.5) - 0.8 * Math.Sin(0.5);
        double t1 = 0.9 * Math.Cos(0.5) - Math.Sqrt(1 - 0.81) * Math.Sin(0.5);
        var r0 = Row(z, 0);
        var r1 = Row(z, 1);
        Assert.Equal(10 * t0, r0[0], 4);
        Assert.Equal(2.0, r0[1], 4); // non-targets: s·cos θ
        Assert.Equal(-1.0, r0[2], 4);
        Assert.Equal(3.0, r1[0], 4);
        Assert.Equal(10 * t1, r1[1], 4);
    }

    [Fact]
    public void CosFaceSubtractsAdditiveCosineMargin()
    {
        using var cos = tensor(new float[] { 0.5f, 0.4f }, [1, 2]);
        using var y = tensor(new long[] { 1 });
        using var z = CombinedMarginHead.MarginLogits(cos, y, 64, 1, 0, 0.35);
        var r = Row(z, 0);
        Assert.Equal(64 * 0.5, r[0], 3);
        Assert.Equal(64 * (0.4 - 0.35), r[1], 3);
    }

    [Fact]
    public void CombinedMarginUsesAllThreeMargins()
    {
        // cos(m1·θ + m2) − m3 with m1 = 0.9, m2 = 0.4, m3 = 0.15 at cos θ = 0.7
        using var cos = tensor(new float[] { 0.7f, 0.1f }, [1, 2]);
        using var y = tensor(new long[] { 0 });
        using var z = CombinedMarginHead.MarginLogits(cos, y, 2, 0.9, 0.4, 0.15);
        double expected = 2 * (Math.Cos(0.9 * Math.Acos(0.7) + 0.4) - 0.15);
        Assert.Equal(expected, Row(z, 0)[0], 4);
    }

    [Fact]
    public void ArcFaceFallsBackBeyondPiSoLogitKeepsFalling()
    {
        // θ = acos(−0.95) = 2.824; θ + 0.5 > π → fallback cos θ − sin(π − m)·m
        using var cos = tensor(new float[] { -0.95f, 0f }, [1, 2]);
        using var y = tensor(new long[] { 0 });
        using var z = CombinedMarginHead.MarginLogits(cos, y, 1, 1, 0.5, 0);
        Assert.Equal(-0.95 - Math.Sin(Math.PI - 0.5) * 0.5, Row(z, 0)[0], 4);
    }

    [Fact]
    public void HeadWithoutLabelsReturnsScaledCosine()
    {
        manual_seed(3);
        using var head = CombinedMarginHead.ArcFace(4, 3, s: 8);
        using var x = randn(5, 4);
        using var z = head.call(x, null);
        using var c = head.Cosine(x);
        Assert.True((z - c * 8).abs().max().item<float>() < 1e-5);
        Assert.True(c.abs().max().item<float>() <= 1.0f);
    }

    [Fact]
    public void MarginLowersTheTargetLogitAndRaisesTheLoss()
    {
        manual_seed(4);
        using var head = CombinedMarginHead.ArcFace(8, 5, s: 16);
        using var x = randn(6, 8);
        using var y = tensor(new long[] { 0, 1, 2, 3, 4, 0 });
        using var withMargin = head.call(x, y);
        using var plain = head.call(x, null);
        using var lm = head.Loss(withMargin, y);
        using var lp = head.Loss(plain, y);
        Assert.True(lm.item<float>() > lp.item<float>());
    }
}
