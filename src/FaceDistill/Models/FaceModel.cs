using FaceDistill.Models.Heads;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Models;

/// <summary>A backbone and its training head. At test time only the backbone (the embedding) is used for
/// verification; classification and regression read the head's margin-free outputs.</summary>
public sealed class FaceModel : nn.Module
{
    public Backbone Backbone { get; }
    public Head Head { get; }

    public FaceModel(Backbone backbone, Head head)
        : base("FaceModel")
    {
        Backbone = backbone;
        Head = head;
        register_module("backbone", backbone);
        register_module("head", head);
    }

    public Tensor Embed(Tensor images) => Backbone.call(images);

    /// <summary>Head outputs without margin (predictions).</summary>
    public Tensor Predict(Tensor images)
    {
        using var e = Backbone.call(images);
        return Head.call(e, null);
    }
}
