using FaceDistill.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Training;

/// <summary>SGD (momentum, Nesterov) or AdamW (decoupled weight decay), with an LR setter used by the
/// schedule.</summary>
public static class OptimizerFactory
{
    public static optim.Optimizer Create(OptimizerConfig c, IEnumerable<TorchSharp.Modules.Parameter> parameters) =>
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

    public static void SetLr(optim.Optimizer opt, double lr)
    {
        foreach (var g in opt.ParamGroups)
            g.LearningRate = lr;
    }
}
