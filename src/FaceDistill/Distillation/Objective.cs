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
        var (soft, labelled) = SoftTargets(batch, labels, head);
        using var _ = soft;
        var loss =
            soft is null ? model.Head.Loss(head, labels)
            : labelled == 0 ? head.sum() * 0 // a batch of unlabelled faces: no task loss, the graph kept
            : model.Head.SoftLoss(head, soft) * ((double)batch.Count / labelled);
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

    /// <summary>The batch's class distributions <c>[N, C]</c> when any of its faces has a soft label or none at all
    /// (<c>data.unlabelled</c>), else null: soft rows as given, labelled rows one-hot at their class, unlabelled rows
    /// zero. The task loss is then the cross-entropy with soft targets over the rows that have one,
    /// <c>L = −(1/N_t) Σ_{i: q_i ≠ 0} Σ_c q_ic log softmax(z_i)_c</c>; <c>Labelled</c> is N_t.</summary>
    public static (Tensor? Targets, int Labelled) SoftTargets(Batch batch, Tensor labels, Tensor logits)
    {
        if (logits.dim() != 2 || labels.dtype != ScalarType.Int64)
            return (null, batch.Count);
        var hard = labels.cpu().data<long>().ToArray();
        if (!batch.Labels.Any(l => l.Soft is not null) && hard.All(h => h >= 0))
            return (null, batch.Count);
        int n = batch.Count,
            c = (int)logits.shape[1],
            labelled = 0;
        var q = new float[n * c];
        for (int i = 0; i < n; i++)
            if (batch.Labels[i].Soft is { } s)
            {
                if (s.Length != c)
                    throw new Core.FaceDistillException($"{s.Length} soft-label classes, the model has {c}");
                s.CopyTo(q, i * c);
                labelled++;
            }
            else if (hard[i] >= 0 && hard[i] < c)
            {
                q[i * c + hard[i]] = 1;
                labelled++;
            }
        return (Core.ComputeDevice.OnDevice(tensor(q, [n, c])), labelled);
    }
}
