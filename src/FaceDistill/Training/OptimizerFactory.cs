using FaceDistill.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Training;

/// <summary>SGD (momentum, Nesterov) or AdamW (decoupled weight decay), with an LR setter used by the schedule.
/// With <c>train.optimizer.backboneLrScale</c> below 1 the backbone's parameters form a group of their own whose
/// learning rate is that fraction of the schedule's (discriminative fine-tuning of a pretrained backbone); otherwise
/// every parameter is in one group, as before the key existed, so older checkpoints still load.</summary>
public static class OptimizerFactory
{
    public static optim.Optimizer Create(OptimizerConfig c, IEnumerable<TorchSharp.Modules.Parameter> parameters) =>
        Create(c, [], parameters);

    /// <summary>The optimizer over <paramref name="backbone"/> (at <c>lr × backboneLrScale</c>) and
    /// <paramref name="rest"/> (at <c>lr</c>).</summary>
    public static optim.Optimizer Create(
        OptimizerConfig c,
        IEnumerable<TorchSharp.Modules.Parameter> backbone,
        IEnumerable<TorchSharp.Modules.Parameter> rest
    )
    {
        if (c.BackboneLrScale == 1.0)
            return Single(c, backbone.Concat(rest));
        var (b, r) = (backbone.ToList(), rest.ToList());
        double lrB = c.Lr * c.BackboneLrScale;
        return c.Type switch
        {
            "sgd" => optim.SGD(
                [
                    new TorchSharp.Modules.SGD.ParamGroup(b, lrB, c.Momentum, 0, c.WeightDecay, c.Nesterov),
                    new TorchSharp.Modules.SGD.ParamGroup(r, c.Lr, c.Momentum, 0, c.WeightDecay, c.Nesterov),
                ],
                c.Lr,
                c.Momentum,
                dampening: 0,
                weight_decay: c.WeightDecay,
                nesterov: c.Nesterov
            ),
            "adamw" => optim.AdamW(
                [
                    new TorchSharp.Modules.AdamW.ParamGroup(b, lrB, c.Beta1, c.Beta2, weight_decay: c.WeightDecay),
                    new TorchSharp.Modules.AdamW.ParamGroup(r, c.Lr, c.Beta1, c.Beta2, weight_decay: c.WeightDecay),
                ],
                c.Lr,
                c.Beta1,
                c.Beta2,
                weight_decay: c.WeightDecay
            ),
            _ => throw new ArgumentException($"unknown optimizer '{c.Type}'"),
        };
    }

    private static optim.Optimizer Single(OptimizerConfig c, IEnumerable<TorchSharp.Modules.Parameter> parameters) =>
        c.Type switch
        {
            "sgd" => optim.SGD(
                parameters,
                c.Lr,
                c.Momentum,
                dampening: 0,
                weight_decay: c.WeightDecay,
                nesterov: c.Nesterov
            ),
            "adamw" => optim.AdamW(parameters, c.Lr, c.Beta1, c.Beta2, weight_decay: c.WeightDecay),
            _ => throw new ArgumentException($"unknown optimizer '{c.Type}'"),
        };

    /// <summary>Sets the schedule's <paramref name="lr"/>: every group at <paramref name="lr"/>, except the backbone's
    /// group (the first of two) at <c>lr × backboneLrScale</c>.</summary>
    public static void SetLr(optim.Optimizer opt, double lr, double backboneLrScale = 1.0)
    {
        var groups = opt.ParamGroups.ToList();
        for (int i = 0; i < groups.Count; i++)
            groups[i].LearningRate = groups.Count == 2 && i == 0 ? lr * backboneLrScale : lr;
    }

    /// <summary>The learning rate of each parameter group, in order.</summary>
    public static IReadOnlyList<double> Lrs(optim.Optimizer opt) =>
        opt.ParamGroups.Select(g => g.LearningRate).ToList();
}
