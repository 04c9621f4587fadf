using FaceDistill.Data;
using FaceDistill.Models;
using static TorchSharp.torch;

namespace FaceDistill.Distillation;

/// <summary>The training objective: the head's task loss plus weighted terms. Reports every part for the log.</summary>
public sealed class Objective(IReadOnlyList<IObjectiveTerm> terms)
{
    public static readonly Objective TaskOnly = new([]);

    /// <summary>The view the student is trained on (e.g. occluded:vr while a teacher sees clean).</summary>
    public string StudentView { get; init; } = "clean";

    /// <summary>Weight of the task loss: 1, or 1 − λ in Georgescu et al.'s (1 − λ)·task + λ·KD.</summary>
    public double TaskWeight { get; init; } = 1;

    /// <summary>Every view the student and the terms need besides the clean one (the loader renders them,
    /// pixel-aligned).</summary>
    public IReadOnlyList<string> ExtraViews =>
        Terms.SelectMany(t => t.Views).Prepend(StudentView).Where(v => v != "clean").Distinct().ToList();

    public IReadOnlyList<IObjectiveTerm> Terms { get; } = terms;

    public Tensor Loss(
        FaceModel model,
        Tensor images,
        Tensor labels,
        Batch batch,
        StepContext ctx,
        IDictionary<string, double> parts
    )
    {
        var embedding = model.Backbone.call(images);
        var head = model.Head.call(embedding, labels);
        var loss = model.Head.Loss(head, labels);
        parts["task"] = loss.item<float>();
        if (TaskWeight != 1)
            loss = loss * TaskWeight;
        var student = new StudentOutputs(embedding, head, labels)
        {
            EmbedView = view => model.Backbone.call(batch.Tensor(view)),
            TaskLoss = e => model.Head.Loss(model.Head.call(e, labels), labels),
        };
        foreach (var term in Terms)
        {
            double w = term.Weight(ctx);
            if (w == 0)
                continue;
            using var t = term.Compute(student, batch, ctx);
            parts[term.Name] = t.item<float>();
            loss = loss + t * w;
        }
        return loss;
    }
}
