using FaceDistill.Graphs.Tfjs;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Models;

/// <summary>Parameter count and multiply-accumulates of a backbone for one image.</summary>
public sealed record ModelStats(string Name, int InputSize, long Parameters, long Macs)
{
    /// <summary>FLOPs = 2 × MACs (the convention of the MobileFaceNet and arcface_torch tables).</summary>
    public long Flops => 2 * Macs;

    /// <summary>
    /// Counts MACs with forward hooks on every Conv2d and Linear during one forward pass of a single image:
    /// conv: output elements × (C_in / groups) × k_h × k_w; linear: output elements × in_features (an imported tfjs
    /// graph counts its own convolutions and matrix products the same way).
    /// (BN, activations and pooling are not counted, as is customary.)
    /// </summary>
    public static ModelStats Measure(Backbone model)
    {
        long macs = 0;
        var removers = new List<Action>();
        foreach (var (_, m) in model.named_modules())
        {
            if (m is TorchSharp.Modules.Conv2d conv)
            {
                var h = conv.register_forward_hook(
                    (mod, input, output) =>
                    {
                        var w = conv.weight!.shape;
                        macs += output.numel() * w[1] * w[2] * w[3];
                        return output;
                    }
                );
                removers.Add(() => h.remove());
            }
            else if (m is Graphs.Tfjs.TfjsGraphModule graph)
            {
                graph.MacCounter = n => macs += n;
                removers.Add(() => graph.MacCounter = null);
            }
            else if (m is TorchSharp.Modules.Linear lin)
            {
                var h = lin.register_forward_hook(
                    (mod, input, output) =>
                    {
                        macs += output.numel() * lin.weight!.shape[1];
                        return output;
                    }
                );
                removers.Add(() => h.remove());
            }
        }
        bool training = model.training;
        model.eval();
        using (no_grad())
        using (var x = zeros(1, 3, model.InputSize, model.InputSize))
        using (var y = model.call(x)) { }
        if (training)
            model.train();
        foreach (var r in removers)
            r();
        long parameters = model.parameters().Sum(p => p.numel());
        return new ModelStats(model.GetName(), model.InputSize, parameters, macs);
    }
}
