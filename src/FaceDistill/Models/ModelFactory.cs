using FaceDistill.Config;
using FaceDistill.Data;
using FaceDistill.Models.Heads;

namespace FaceDistill.Models;

/// <summary>Builds a <see cref="FaceModel"/> from a config: the backbone (<see cref="Backbones"/>) and the head
/// (<see cref="Heads.Heads"/>).</summary>
public static class ModelFactory
{
    public static FaceModel Create(RunSettings c, int classes, double ageMean = 30)
    {
        var task = FaceTaskExtensions.Parse(c.Task);
        var backbone = Backbones.Registry.Get(c.Model.Backbone).Create(c.Model, c.Data.ImageSize);
        // classification of attributes uses a plain softmax head unless a margin head is asked for explicitly
        var head =
            task == FaceTask.Recognition || c.Model.Head.Type is not "arcface"
                ? c.Model.Head
                : c.Model.Head with
                {
                    Type = "softmax",
                };
        return new FaceModel(
            backbone,
            Heads.Heads.Create(new HeadContext(task, head, c.Model.EmbeddingSize, classes, ageMean))
        );
    }
}
