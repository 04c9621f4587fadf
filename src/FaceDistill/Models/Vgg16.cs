using FaceDistill.Graphs.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Models;

/// <summary>
/// VGG-16 as in VGG-Face (Parkhi et al., 2015), Georgescu et al.'s VGG-face backbone: 13 conv3×3 layers in blocks of
/// (64, 64), (128, 128), (256×3), (512×3), (512×3), each block followed by max-pool 2/2; fc6 4096, fc7 4096 (ReLU,
/// dropout), then a linear layer to the embedding. 224×224 gives a 7×7 map; other sizes are measured.
/// <paramref name="widthMultiplier"/> scales the conv widths for fast experiments (1.0 = the paper's net).
/// </summary>
public sealed class Vgg16 : Backbone, IOnnxExportable
{
    private readonly nn.Module<Tensor, Tensor> features,
        classifier;

    public Vgg16(
        int inputSize = 224,
        int embeddingSize = 512,
        double dropout = 0.5,
        double widthMultiplier = 1.0,
        int fcWidth = 4096
    )
        : base("Vgg16", inputSize, embeddingSize)
    {
        long W(long c) => Math.Max(4, (long)Math.Round(c * widthMultiplier));
        var layers = new List<nn.Module<Tensor, Tensor>>();
        long cin = 3;
        foreach (var (c, n) in new (long, int)[] { (64, 2), (128, 2), (256, 3), (512, 3), (512, 3) })
        {
            for (int i = 0; i < n; i++)
            {
                layers.Add(nn.Conv2d(cin, W(c), 3, 1, 1));
                layers.Add(nn.ReLU());
                cin = W(c);
            }
            layers.Add(nn.MaxPool2d(2, 2));
        }
        layers.Add(nn.Flatten());
        features = nn.Sequential(layers);
        var flat = OutputShape(features, 3, inputSize)[1];
        classifier = Layers.VggClassifier(flat, fcWidth, embeddingSize, dropout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var f = features.call(x);
        return classifier.call(f);
    }

    public string ExportOnnx(OnnxGraph g, string x) => g.Module(classifier, g.Module(features, x));
}
