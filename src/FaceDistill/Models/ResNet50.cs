using FaceDistill.Graphs.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Models;

/// <summary>ResNet-50 (He et al., 2016), the backbone of Georgescu et al.'s occlusion experiments: conv7×7/2 64 →
/// max-pool 3×3/2 → bottleneck stages [3, 4, 6, 3] (1×1 → 3×3 → 1×1 with 4× expansion; widths 64…512, outputs 256…2048)
/// → global average pooling → FC to the embedding. <paramref name="widthMultiplier"/> scales every width (1.0 = the
/// paper's net).</summary>
public sealed class ResNet50 : Backbone, IOnnxExportable
{
    private readonly nn.Module<Tensor, Tensor> features,
        fc;

    private sealed class Bottleneck : nn.Module<Tensor, Tensor>, IOnnxExportable
    {
        private readonly nn.Module<Tensor, Tensor> body;
        private readonly nn.Module<Tensor, Tensor>? shortcut;
        private readonly nn.Module<Tensor, Tensor> relu = nn.ReLU();

        public Bottleneck(long cin, long width, long stride)
            : base("Bottleneck")
        {
            long cout = width * 4;
            body = nn.Sequential(
                nn.Conv2d(cin, width, 1, bias: false),
                nn.BatchNorm2d(width),
                nn.ReLU(),
                nn.Conv2d(width, width, 3, stride, 1, bias: false),
                nn.BatchNorm2d(width),
                nn.ReLU(),
                nn.Conv2d(width, cout, 1, bias: false),
                nn.BatchNorm2d(cout)
            );
            if (stride != 1 || cin != cout)
                shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias: false), nn.BatchNorm2d(cout));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var y = body.call(x);
            if (shortcut is null)
                return relu.call(y + x);
            using var s = shortcut.call(x);
            return relu.call(y + s);
        }

        public string ExportOnnx(OnnxGraph g, string x) =>
            g.Node("Relu", [g.Node("Add", [g.Module(body, x), shortcut is null ? x : g.Module(shortcut, x)])]);
    }

    public ResNet50(int inputSize = 224, int embeddingSize = 512, double widthMultiplier = 1.0)
        : base("ResNet50", inputSize, embeddingSize)
    {
        long W(long c) => Math.Max(4, (long)Math.Round(c * widthMultiplier));
        var layers = new List<nn.Module<Tensor, Tensor>>
        {
            nn.Conv2d(3, W(64), 7, 2, 3, bias: false),
            nn.BatchNorm2d(W(64)),
            nn.ReLU(),
            nn.MaxPool2d(3, 2, 1),
        };
        long cin = W(64);
        int[] blocks = [3, 4, 6, 3];
        long[] widths = [W(64), W(128), W(256), W(512)];
        for (int s = 0; s < 4; s++)
        for (int b = 0; b < blocks[s]; b++)
        {
            layers.Add(new Bottleneck(cin, widths[s], b == 0 && s > 0 ? 2 : 1));
            cin = widths[s] * 4;
        }
        layers.Add(nn.AdaptiveAvgPool2d(1));
        layers.Add(nn.Flatten());
        features = nn.Sequential(layers);
        fc = nn.Sequential(nn.Linear(cin, embeddingSize), nn.BatchNorm1d(embeddingSize));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var f = features.call(x);
        return fc.call(f);
    }

    public string ExportOnnx(OnnxGraph g, string x) => g.Module(fc, g.Module(features, x));
}
