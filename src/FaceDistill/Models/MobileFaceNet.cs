using FaceDistill.Graphs.Onnx;
using TorchSharp;
using static FaceDistill.Models.Layers;
using static TorchSharp.torch;

namespace FaceDistill.Models;

/// <summary>
/// MobileFaceNet (Chen et al., 2018): a MobileNetV2-style net of inverted residual bottlenecks with PReLU, and a
/// global depthwise convolution (GDC) instead of global pooling, which keeps the spatial weighting faces need.
/// Table 1 of the paper at 112×112: conv3×3/2 64 → dw3×3 64 → bottlenecks (t, c, n, s) = (2,64,5,2), (4,128,1,2),
/// (2,128,6,1), (4,128,1,2), (2,128,2,1) → conv1×1 512 → GDC 7×7 → linear conv1×1 → embedding (BN). About 1M params.
/// The GDC kernel equals the final feature map (input/16), so any input size divisible by 16 works.
/// </summary>
public sealed class MobileFaceNet : Backbone, IOnnxExportable
{
    private readonly nn.Module<Tensor, Tensor> features,
        gdc,
        output;

    private sealed class Bottleneck : nn.Module<Tensor, Tensor>, IOnnxExportable
    {
        private readonly nn.Module<Tensor, Tensor> body;
        private readonly bool residual;

        public Bottleneck(long cin, long cout, long expansion, long stride)
            : base("Bottleneck")
        {
            long hidden = cin * expansion;
            body = nn.Sequential(
                ConvBnPRelu(cin, hidden, 1),
                ConvBnPRelu(hidden, hidden, 3, stride, 1, groups: hidden),
                ConvBn(hidden, cout, 1)
            );
            residual = stride == 1 && cin == cout;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => residual ? x + body.call(x) : body.call(x);

        public string ExportOnnx(OnnxGraph g, string x) =>
            residual ? g.Node("Add", [x, g.Module(body, x)]) : g.Module(body, x);
    }

    public MobileFaceNet(int inputSize = 112, int embeddingSize = 128)
        : base("MobileFaceNet", inputSize, embeddingSize)
    {
        if (inputSize % 16 != 0)
            throw new ArgumentException($"MobileFaceNet needs an input size divisible by 16, got {inputSize}");
        var layers = new List<nn.Module<Tensor, Tensor>>
        {
            ConvBnPRelu(3, 64, 3, 2, 1),
            ConvBnPRelu(64, 64, 3, 1, 1, groups: 64),
        };
        long cin = 64;
        foreach (
            var (t, c, n, s) in new (long, long, int, long)[]
            {
                (2, 64, 5, 2),
                (4, 128, 1, 2),
                (2, 128, 6, 1),
                (4, 128, 1, 2),
                (2, 128, 2, 1),
            }
        )
            for (int i = 0; i < n; i++)
            {
                layers.Add(new Bottleneck(cin, c, t, i == 0 ? s : 1));
                cin = c;
            }
        layers.Add(ConvBnPRelu(cin, 512, 1));
        features = nn.Sequential(layers);
        int fm = inputSize / 16;
        gdc = ConvBn(512, 512, fm, groups: 512);
        output = nn.Sequential(nn.Conv2d(512, embeddingSize, 1, bias: false), nn.BatchNorm2d(embeddingSize));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var f = features.call(x);
        using var g = gdc.call(f);
        using var o = output.call(g);
        return o.flatten(1);
    }

    public string ExportOnnx(OnnxGraph g, string x) =>
        g.Node("Flatten", [g.Module(output, g.Module(gdc, g.Module(features, x)))], ("axis", 1L));
}
