using FaceDistill.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Training;

/// <summary>SGD (momentum, Nesterov) or AdamW (decoupled weight decay), with an LR setter used by the schedule.
/// With <c>train.optimizer.backboneLrScale</c> below 1 or <c>freezeBackboneEpochs</c> above 0 the backbone's parameters
/// form a group of their own whose learning rate is that fraction of the schedule's, 0 while frozen (fine-tuning a
/// pretrained backbone); otherwise every parameter is in one group, as before these keys existed, so older
/// checkpoints still load.</summary>
public static class OptimizerFactory
{
    /// <summary>The optimizer over <paramref name="backbone"/> (at <c>lr × backboneLrScale</c>) and
    /// <paramref name="rest"/> (at <c>lr</c>).</summary>
    public static optim.Optimizer Create(
        OptimizerConfig c,
        IEnumerable<TorchSharp.Modules.Parameter> backbone,
        IEnumerable<TorchSharp.Modules.Parameter> rest
    )
    {
        if (!Grouped(c))
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

    /// <summary>Whether the backbone gets a group of its own: a <c>backboneLrScale</c> below 1 or a
    /// <c>freezeBackboneEpochs</c> above 0.</summary>
    public static bool Grouped(OptimizerConfig c) => c.BackboneLrScale != 1.0 || c.FreezeBackboneEpochs > 0;

    /// <summary>The backbone's LR at <paramref name="step"/> when the schedule gives <paramref name="lr"/>: 0 during
    /// the first <c>freezeBackboneEpochs</c>, then <c>lr × backboneLrScale</c>.</summary>
    public static double BackboneLr(OptimizerConfig c, double lr, long step, int stepsPerEpoch) =>
        step < c.FreezeBackboneEpochs * stepsPerEpoch ? 0 : lr * c.BackboneLrScale;

    /// <summary>Sets the schedule's <paramref name="lr"/> on every group, except the backbone's group (the first of
    /// two) which gets <paramref name="backboneLr"/> (default: <paramref name="lr"/>).</summary>
    public static void SetLr(optim.Optimizer opt, double lr, double? backboneLr = null)
    {
        var groups = opt.ParamGroups.ToList();
        for (int i = 0; i < groups.Count; i++)
            groups[i].LearningRate = groups.Count == 2 && i == 0 ? backboneLr ?? lr : lr;
    }

    /// <summary>The learning rate of each parameter group, in order.</summary>
    public static IReadOnlyList<double> Lrs(optim.Optimizer opt) =>
        opt.ParamGroups.Select(g => g.LearningRate).ToList();
}
