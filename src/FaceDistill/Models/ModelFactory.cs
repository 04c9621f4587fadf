using FaceDistill.Config;
using FaceDistill.Data;
using FaceDistill.Models.Heads;

namespace FaceDistill.Models;

/// <summary>Builds backbones and heads from the config's names.</summary>
public static class ModelFactory
{
    public static Backbone CreateBackbone(string name, int inputSize, int embeddingSize, double width = 1.0, double dropout = 0.0) =>
        name.ToLowerInvariant() switch
        {
            "mobilefacenet" => new MobileFaceNet(inputSize, embeddingSize),
            "iresnet18" => new IResNet(18, inputSize, embeddingSize, dropout, width),
            "iresnet34" => new IResNet(34, inputSize, embeddingSize, dropout, width),
            "iresnet50" => new IResNet(50, inputSize, embeddingSize, dropout, width),
            "iresnet100" => new IResNet(100, inputSize, embeddingSize, dropout, width),
            "resnet50" => new ResNet50(inputSize, embeddingSize, width),
            "vggf" => new VggF(inputSize, embeddingSize, dropout > 0 ? dropout : 0.5),
            "vgg16" => new Vgg16(inputSize, embeddingSize, dropout > 0 ? dropout : 0.5, width),
            _ => throw new ArgumentException($"unknown backbone '{name}' (expected {string.Join(", ", ConfigValidator.Backbones)})"),
        };

    public static Head CreateHead(FaceTask task, HeadConfig h, int embeddingSize, int classes, double ageMean = 30)
    {
        if (task == FaceTask.Age) return new RegressionHead(embeddingSize, ageMean);
        if (classes < 2) throw new Core.FaceDistillException($"task '{task}' needs at least 2 classes, the data has {classes}");
        return h.Type.ToLowerInvariant() switch
        {
            "softmax" => new SoftmaxHead(embeddingSize, classes),
            "arcface" => new CombinedMarginHead(embeddingSize, classes, h.S, h.M1 ?? 1, h.M2 ?? 0.5, h.M3 ?? 0),
            "cosface" => new CombinedMarginHead(embeddingSize, classes, h.S, h.M1 ?? 1, h.M2 ?? 0, h.M3 ?? 0.35),
            "combined" => new CombinedMarginHead(embeddingSize, classes, h.S, h.M1 ?? 1, h.M2 ?? 0.3, h.M3 ?? 0.2),
            "multiface" => new MultiFaceHead(embeddingSize, h.Groups,
                d => CreateHead(task, h with { Type = h.GroupHead }, (int)d, classes, ageMean),
                h.FullWeight > 0 ? CreateHead(task, h with { Type = h.GroupHead }, embeddingSize, classes, ageMean) : null, h.FullWeight),
            _ => throw new ArgumentException($"unknown head '{h.Type}'"),
        };
    }

    public static FaceModel Create(ExperimentConfig c, int classes, double ageMean = 30)
    {
        var task = FaceTaskExtensions.Parse(c.Task);
        var backbone = CreateBackbone(c.Model.Backbone, c.Data.ImageSize, c.Model.EmbeddingSize, c.Model.Width, c.Model.Dropout);
        // classification of attributes uses a plain softmax head unless a margin head is asked for explicitly
        var head = CreateHead(task, task == FaceTask.Recognition ? c.Model.Head : c.Model.Head with { Type = c.Model.Head.Type is "arcface" ? "softmax" : c.Model.Head.Type },
            c.Model.EmbeddingSize, classes, ageMean);
        return new FaceModel(backbone, head);
    }
}
