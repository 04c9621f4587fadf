using FaceDistill.Config;
using FaceDistill.Core;

namespace FaceDistill.Models;

/// <summary>A backbone family as a config names it (<c>model.backbone</c>): its factory and its input-size
/// rule.</summary> <param name="InputRule">The problem with an input side, or null when the family accepts it.</param>
public sealed record BackboneKind(string Name, Func<ModelConfig, int, Backbone> Create, Func<int, string?> InputRule)
    : INamed;

/// <summary>
/// The registry of backbones (arcface_torch style: one family per file). A new backbone is its file and one line here.
/// </summary>
public static class Backbones
{
    private static string? DivisibleBy16(int size) => size % 16 == 0 ? null : $"must be divisible by 16, found {size}";

    private static string? AtLeast(int min, int size) => size >= min ? null : $"must be at least {min}, found {size}";

    public static readonly Registry<BackboneKind> Registry = new(
        "backbone",
        [
            new BackboneKind("mobilefacenet", (m, s) => new MobileFaceNet(s, m.EmbeddingSize), DivisibleBy16),
            IResNetKind(18),
            IResNetKind(34),
            IResNetKind(50),
            IResNetKind(100),
            new BackboneKind("resnet50", (m, s) => new ResNet50(s, m.EmbeddingSize, m.Width), s => AtLeast(32, s)),
            new BackboneKind(
                "vggf",
                (m, s) => new VggF(s, m.EmbeddingSize, m.Dropout > 0 ? m.Dropout : 0.5),
                s => AtLeast(64, s)
            ),
            new BackboneKind(
                "vgg16",
                (m, s) => new Vgg16(s, m.EmbeddingSize, m.Dropout > 0 ? m.Dropout : 0.5, m.Width),
                s => AtLeast(32, s)
            ),
            .. Faces.Zoo.GraphFaceNets.All.Keys.Select(ImportedKind),
        ]
    );

    /// <summary>A pretrained imported face net (<see cref="ImportedBackbone"/>), named
    /// <c>zoo:&lt;net&gt;</c>.</summary>
    private static BackboneKind ImportedKind(string net) =>
        new($"zoo:{net}", (m, s) => new ImportedBackbone(net, s, m.EmbeddingSize), s => AtLeast(16, s));

    private static BackboneKind IResNetKind(int depth) =>
        new(
            $"iresnet{depth}",
            (m, s) => new IResNet(depth, s, m.EmbeddingSize, m.Dropout, m.Width, m.Output),
            DivisibleBy16
        );

    /// <summary>The backbone <paramref name="name"/> for an input side, with the defaults of <see
    /// cref="ModelConfig"/>.</summary>
    public static Backbone Create(
        string name,
        int inputSize,
        int embeddingSize,
        double width = 1.0,
        double dropout = 0.0
    ) =>
        Registry
            .Get(name)
            .Create(
                new ModelConfig
                {
                    Backbone = name,
                    EmbeddingSize = embeddingSize,
                    Width = width,
                    Dropout = dropout,
                },
                inputSize
            );
}
