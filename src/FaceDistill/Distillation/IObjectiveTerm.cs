using FaceDistill.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Distillation;

/// <summary>Where training stands, for terms whose weight ramps (e.g. GKD's min(epoch/10, 1)).</summary>
public sealed record StepContext(long Step, int Epoch, int StepsPerEpoch)
{
    public double FractionalEpoch => Epoch + (double)(Step % Math.Max(1, StepsPerEpoch)) / Math.Max(1, StepsPerEpoch);
}

/// <summary>What the student produced for a batch: its embedding and head output (logits with margin, or age) on the
/// training view; and, for terms that need them, the student on another view of the same batch and its task
/// loss.</summary>
public sealed record StudentOutputs(Tensor Embedding, Tensor HeadOutput, Tensor Labels)
{
    /// <summary>The student's embedding of another view of the batch (e.g. "lowres:16"), with gradients.</summary>
    public Func<string, Tensor> EmbedView { get; init; } =
        v => throw new InvalidOperationException($"view '{v}' is not available");

    /// <summary>The head's task loss (margin loss) for an embedding of the batch's samples.</summary>
    public Func<Tensor, Tensor> TaskLoss { get; init; } = _ => throw new InvalidOperationException("no task loss");
}

/// <summary>
/// One additive term of the <see cref="Objective"/> (loss = task_loss + Σ_k weight_k(step)·term_k). A distiller is one
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
