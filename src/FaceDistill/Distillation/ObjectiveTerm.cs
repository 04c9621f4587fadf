using FaceDistill.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Distillation;

/// <summary>Where training stands, for terms whose weight ramps (e.g. GKD's min(epoch/10, 1)).</summary>
public sealed record StepContext(long Step, int Epoch, int StepsPerEpoch)
{
    public double FractionalEpoch => Epoch + (double)(Step % Math.Max(1, StepsPerEpoch)) / Math.Max(1, StepsPerEpoch);
}

/// <summary>What the student produced for a batch: its embedding and its head output (logits with margin, or age).</summary>
public sealed record StudentOutputs(Tensor Embedding, Tensor HeadOutput, Tensor Labels);

/// <summary>
/// One additive term of the objective (DESIGN.md: loss = task_loss + Σ_k weight_k(step)·term_k). A distiller is one
/// small class implementing this, with its loss as a pure static function beside it; the trainer knows none by name.
/// </summary>
public interface IObjectiveTerm
{
    string Name { get; }
    /// <summary>Views of the batch the term needs besides the student's (e.g. "clean" for a teacher).</summary>
    IReadOnlyList<string> Views { get; }
    /// <summary>Trainable parameters the term owns (e.g. a projection to the teacher's embedding size).</summary>
    IEnumerable<TorchSharp.Modules.Parameter> Parameters { get; }
    double Weight(StepContext ctx);
    Tensor Compute(StudentOutputs student, Batch batch, StepContext ctx);
}

/// <summary>The training objective: the head's task loss plus weighted terms. Reports every part for the log.</summary>
public sealed class Objective(IReadOnlyList<IObjectiveTerm> terms)
{
    public static readonly Objective TaskOnly = new([]);

    public IReadOnlyList<IObjectiveTerm> Terms { get; } = terms;

    public Tensor Loss(Models.FaceModel model, Tensor images, Tensor labels, Batch batch, StepContext ctx, IDictionary<string, double> parts)
    {
        var embedding = model.Backbone.call(images);
        var head = model.Head.call(embedding, labels);
        var loss = model.Head.Loss(head, labels);
        parts["task"] = loss.item<float>();
        var student = new StudentOutputs(embedding, head, labels);
        foreach (var term in Terms)
        {
            double w = term.Weight(ctx);
            if (w == 0) continue;
            using var t = term.Compute(student, batch, ctx);
            parts[term.Name] = t.item<float>();
            loss = loss + t * w;
        }
        return loss;
    }
}
