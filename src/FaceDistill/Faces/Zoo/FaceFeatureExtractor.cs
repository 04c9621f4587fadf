using FaceDistill.Graphs.Tfjs;
using static TorchSharp.torch;

namespace FaceDistill.Faces.Zoo;

/// <summary>face-api's (Tiny)FaceFeatureExtractor, the trunk of the 68-landmark nets and the expression net
/// (faceapi/SPEC.md §2): dense blocks of separable convs on a 112×112 input.
/// <code>
/// out₁ = relu(first ? conv3ˣ³ˢ²(x) : sep(conv0, x, 2))
/// out₂ = sep(conv1, out₁)          out₃ = sep(conv2, relu(out₁+out₂))          out₄ = sep(conv3, relu(out₁+out₂+out₃))
/// denseBlock4 = relu(out₁+out₂+out₃+out₄),   denseBlock3 = relu(out₁+out₂+out₃)
/// </code>
/// Full: four blocks (32, 64, 128, 256 channels; 112→7) and a 7×7 stride-2 VALID average pool → 256. Tiny: three blocks
/// (32, 64, 128; 112→14) and a 14×14 average pool → 128.</summary>
public sealed class FaceFeatureExtractor
{
    private sealed record Sep(Tensor Depthwise, Tensor Pointwise, Tensor Bias);

    private sealed record Block(Tensor? Conv0Filters, Tensor? Conv0Bias, List<Sep> Seps);

    private readonly List<Block> _blocks = [];
    public bool Tiny { get; }
    public int FeatureSize => Tiny ? 128 : 256;

    internal FaceFeatureExtractor(
        bool tiny,
        Func<string, int, int, int, int, Tensor> conv,
        Func<string, int, int, Tensor> depthwise,
        Func<string, int, Tensor> vector
    )
    {
        Tiny = tiny;
        int[] channels = tiny ? [32, 64, 128] : [32, 64, 128, 256];
        int convs = tiny ? 3 : 4;
        int cin = 3;
        for (int b = 0; b < channels.Length; b++)
        {
            int cout = channels[b];
            var seps = new List<Sep>();
            Tensor? f0 = null,
                b0 = null;
            for (int k = 0; k < convs; k++)
            {
                string p = $"dense{b}/conv{k}";
                if (k == 0 && b == 0)
                {
                    f0 = conv($"{p}/filters", 3, 3, cin, cout);
                    b0 = vector($"{p}/bias", cout);
                    continue;
                }
                int c = k == 0 ? cin : cout;
                seps.Add(
                    new Sep(
                        depthwise($"{p}/depthwise_filter", 3, c),
                        conv($"{p}/pointwise_filter", 1, 1, c, cout),
                        vector($"{p}/bias", cout)
                    )
                );
            }
            _blocks.Add(new Block(f0, b0, seps));
            cin = cout;
        }
    }

    /// <summary>Features <c>[N, 256]</c> (tiny: 128) for normalised inputs <c>[N, 3, 112, 112]</c>; call inside a
    /// dispose scope.</summary>
    public Tensor Forward(Tensor x)
    {
        var output = x;
        foreach (var block in _blocks)
        {
            int s = 0;
            Tensor SepConv(Tensor t, long stride)
            {
                var p = block.Seps[s++];
                return TfOps.SeparableSame(t, p.Depthwise, p.Pointwise, p.Bias, stride);
            }
            var out1 = (
                block.Conv0Filters is not null
                    ? TfOps.Conv2dSame(output, block.Conv0Filters, block.Conv0Bias, 2)
                    : SepConv(output, 2)
            ).relu();
            var out2 = SepConv(out1, 1);
            var sum12 = out1 + out2;
            var out3 = SepConv(sum12.relu(), 1);
            var sum123 = sum12 + out3;
            if (Tiny)
            {
                output = sum123.relu();
                continue;
            } // denseBlock3
            var out4 = SepConv(sum123.relu(), 1);
            output = (sum123 + out4).relu();
        }
        var pooled = TfOps.AvgPoolValid(output, Tiny ? 14 : 7, 2);
        return pooled.flatten(1);
    }
}
