using FaceDistill.Models;
using static TorchSharp.torch;

namespace FaceDistill.Tests;

public class ModelTests
{
    [Theory]
    [InlineData("mobilefacenet", 112, 128)]
    [InlineData("mobilefacenet", 64, 128)]
    [InlineData("iresnet18", 64, 512)]
    [InlineData("iresnet34", 32, 128)]
    [InlineData("resnet50", 64, 256)]
    [InlineData("vggf", 96, 128)]
    [InlineData("vgg16", 32, 64)]
    public void BackbonesProduceEmbeddingsForTheirInputSize(string name, int size, int dim)
    {
        using var b = Backbones.Create(name, size, dim, width: name is "vgg16" or "resnet50" ? 0.25 : 1.0);
        b.eval();
        using var _ = no_grad();
        using var x = randn(2, 3, size, size);
        using var y = b.call(x);
        Assert.Equal([2L, dim], y.shape);
        Assert.True(y.isfinite().all().item<bool>());
    }

    [Fact]
    public void StatsMatchPublishedSizes()
    {
        // MobileFaceNet (Chen et al. 2018, Table 2): 0.99 M parameters, 221 M MAdds at 112×112 with a 128-d embedding
        using var mfn = new MobileFaceNet(112, 128);
        var s = ModelStats.Measure(mfn);
        Assert.InRange(s.Parameters, 0.95e6, 1.25e6);
        Assert.InRange(s.Macs, 0.20e9, 0.25e9);
        // IResNet-18 at 112 (arcface_torch r18): ~24 M parameters, ~2.6 G MACs
        using var r18 = new IResNet(18, 112, 512);
        var r = ModelStats.Measure(r18);
        Assert.InRange(r.Parameters, 23e6, 26e6);
        Assert.InRange(r.Macs, 2.4e9, 2.8e9);
        // VGG-16 conv part at 224: 15.4 GMACs is the well-known figure (+ fc layers)
        using var vgg = new Vgg16(224, 4096);
        Assert.InRange(ModelStats.Measure(vgg).Macs, 15.3e9, 15.6e9);
    }

    [Fact]
    public void GdcOutputReplacesTheFlattenedLinearLayerWithOneWeightPerChannelAndPosition()
    {
        // IResNet-18 at ¼ width and 96 px: a 128 × 6 × 6 final map and a 128-d embedding
        using var fc = new IResNet(18, 96, 128, widthMultiplier: 0.25);
        using var gdc = new IResNet(18, 96, 128, widthMultiplier: 0.25, output: "gdc");
        var (a, b) = (ModelStats.Measure(fc), ModelStats.Measure(gdc));
        // fc: Linear(4608 → 128) with bias + BN1d(128); gdc: depthwise 6×6 + BN2d(128) + 1×1 (128 → 128) + BN2d(128)
        long fcParams = 4608 * 128 + 128 + 2 * 128;
        long gdcParams = 128 * 36 + 2 * 128 + 128 * 128 + 2 * 128;
        Assert.Equal(fcParams - gdcParams, a.Parameters - b.Parameters);
        Assert.Equal(4608L * 128 - (128L * 36 + 128 * 128), a.Macs - b.Macs);
        gdc.eval();
        using var _ = no_grad();
        using var y = gdc.call(randn(2, 3, 96, 96));
        Assert.Equal([2L, 128], y.shape);
    }

    [Fact]
    public void MacCountOfASingleConvIsExact()
    {
        // through a full backbone is hard to hand-check; a VGG-16 at width 1/16 and 32 px is small enough to sum by
        // hand
        using var v = new Vgg16(32, 10, widthMultiplier: 1.0 / 16, fcWidth: 8);
        // convs: widths 4,4 | 8,8 | 16,16,16 | 32,32,32 | 32,32,32 at sizes 32,16,8,4,2
        long Conv(long cin, long cout, long hw) => cout * hw * hw * cin * 9;
        long macs =
            Conv(3, 4, 32)
            + Conv(4, 4, 32)
            + Conv(4, 8, 16)
            + Conv(8, 8, 16)
            + Conv(8, 16, 8)
            + 2 * Conv(16, 16, 8)
            + Conv(16, 32, 4)
            + 2 * Conv(32, 32, 4)
            + 3 * Conv(32, 32, 2)
            + 32 * 8
            + 8 * 8
            + 8 * 10;
        Assert.Equal(macs, ModelStats.Measure(v).Macs);
    }
}

public class DeterminismTests
{
    [Fact]
    public void IResNetBackwardIsBitIdenticalAcrossRepetitionsWithTwoThreads()
    {
        // guards TorchRuntime's AVX2 cap on oneDNN: with its AVX-512 kernels this differed between repetitions and went
        // NaN
        TorchSharp.torch.set_num_threads(2);
        float[]? first = null;
        for (int rep = 0; rep < 20; rep++)
        {
            TorchSharp.torch.manual_seed(1);
            using var m = new FaceDistill.Models.IResNet(18, 32, 32, 0.0, 0.125);
            using var x = TorchSharp.torch.randn(16, 3, 32, 32).requires_grad_(true);
            using var y = m.call(x);
            using var loss = (y * y).sum();
            loss.backward();
            var g = m.parameters()
                .SelectMany(p => p.grad!.data<float>().ToArray())
                .Concat(x.grad!.data<float>().ToArray())
                .ToArray();
            Assert.All(g, v => Assert.True(float.IsFinite(v)));
            if (first is null)
                first = g;
            else
                Assert.Equal(first, g);
        }
        Assert.Equal("AVX2", FaceDistill.Core.TorchRuntime.OneDnnMaxIsa);
    }
}
