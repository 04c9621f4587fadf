using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;

namespace FaceDistill.Models.Heads;

/// <summary>What a head is built from: the task, the head's config, the embedding width, the class count.</summary>
public sealed record HeadContext(FaceTask Task, HeadConfig Config, int EmbeddingSize, int Classes, double AgeMean);

/// <summary>A classification head as a config names it (<c>model.head.type</c>).</summary>
public sealed record HeadKind(
    string Name,
    Func<HeadContext, Head> Create,
    Action<ModelConfig, ConfigChecks>? Validate = null
) : INamed;

/// <summary>
/// The registry of heads. Margins are those of the combined form cos(m1·θ + m2) − m3, the type's default unless
/// <c>model.head.m1/m2/m3</c> are set. The age task always uses the <see cref="RegressionHead"/>.
/// </summary>
public static class Heads
{
    public static readonly Registry<HeadKind> Registry = new(
        "head",
        [
            new HeadKind("arcface", c => Margin(c, 1, 0.5, 0)),
            new HeadKind("cosface", c => Margin(c, 1, 0, 0.35)),
            new HeadKind("combined", c => Margin(c, 1, 0.3, 0.2)),
            new HeadKind("softmax", c => new SoftmaxHead(c.EmbeddingSize, c.Classes)),
            new HeadKind("multiface", MultiFace, ValidateMultiFace),
            new HeadKind("none", _ => new NoHead()),
        ]
    );

    /// <summary>Heads a MultiFace group may use.</summary>
    public static readonly string[] GroupHeads = ["arcface", "cosface", "combined", "softmax"];

    public static Head Create(HeadContext c)
    {
        if (c.Task == FaceTask.Age)
            return new RegressionHead(c.EmbeddingSize, c.AgeMean);
        if (c.Config.Type == "none")
            return new NoHead();
        if (c.Classes < 2)
            throw new FaceDistillException($"task '{c.Task}' needs at least 2 classes, the data has {c.Classes}");
        return Registry.Get(c.Config.Type).Create(c);
    }

    private static Head Margin(HeadContext c, double m1, double m2, double m3) =>
        new CombinedMarginHead(
            c.EmbeddingSize,
            c.Classes,
            c.Config.S,
            c.Config.M1 ?? m1,
            c.Config.M2 ?? m2,
            c.Config.M3 ?? m3
        );

    private static Head MultiFace(HeadContext c)
    {
        var group = c.Config with { Type = c.Config.GroupHead };
        return new MultiFaceHead(
            c.EmbeddingSize,
            c.Config.Groups,
            d => Create(c with { Config = group, EmbeddingSize = (int)d }),
            c.Config.FullWeight > 0 ? Create(c with { Config = group }) : null,
            c.Config.FullWeight
        );
    }

    private static void ValidateMultiFace(ModelConfig m, ConfigChecks checks)
    {
        checks.Describe("model.head.groups", ">= 1, dividing model.embeddingSize");
        if (m.Head.Groups < 1 || m.EmbeddingSize % m.Head.Groups != 0)
            checks.Fail("model.head.groups", $"({m.Head.Groups}) must divide model.embeddingSize ({m.EmbeddingSize})");
        checks.OneOf("model.head.groupHead", m.Head.GroupHead, GroupHeads);
        checks.NonNegative("model.head.fullWeight", m.Head.FullWeight);
    }
}
