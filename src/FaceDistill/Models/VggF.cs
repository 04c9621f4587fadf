using FaceDistill.Graphs.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Models;

/// <summary>VGG-f, i.e. CNN-F (Chatfield et al., "Return of the Devil in the Details", 2014), one of Georgescu et
/// al.'s backbones: conv1 64×11×11/4 + LRN + max-pool 3/2; conv2 256×5×5 (pad 2) + LRN + max-pool 3/2; conv3–5 256×3×3
/// (pad 1) + max-pool 3/2; fc6 4096 + dropout; fc7 4096 + dropout; then a linear layer to the embedding. At 224×224 the
/// conv5 map is 6×6; other input sizes are handled by measuring the map (an input of at least 64 is needed).</summary>
public sealed class VggF : Backbone, IOnnxExportable
{
    private readonly nn.Module<Tensor, Tensor> features,
        classifier;

    public VggF(int inputSize = 224, int embeddingSize = 512, double dropout = 0.5, int fcWidth = 4096)
        : base("VggF", inputSize, embeddingSize)
    {
        features = nn.Sequential(
            nn.Conv2d(3, 64, 11, 4, 0),
            nn.ReLU(),
            nn.LocalResponseNorm(5, 1e-4, 0.75, 2),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 256, 5, 1, 2),
            nn.ReLU(),
            nn.LocalResponseNorm(5, 1e-4, 0.75, 2),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(256, 256, 3, 1, 1),
            nn.ReLU(),
            nn.Conv2d(256, 256, 3, 1, 1),
            nn.ReLU(),
            nn.Conv2d(256, 256, 3, 1, 1),
            nn.ReLU(),
            nn.MaxPool2d(3, 2, ceil_mode: true),
            nn.Flatten()
        );
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
