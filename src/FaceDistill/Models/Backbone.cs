using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Models;

/// <summary>
/// A face backbone: image batch <c>[N, 3, S, S]</c> in [-1, 1] → embedding <c>[N, EmbeddingSize]</c>.
/// Every family is constructible for an input size (the arcface_torch convention is 112).
/// </summary>
public abstract class Backbone : nn.Module<Tensor, Tensor>
{
    static Backbone() => Core.TorchRuntime.EnsureInitialized();

    protected Backbone(string name, int inputSize, int embeddingSize)
        : base(name)
    {
        InputSize = inputSize;
        EmbeddingSize = embeddingSize;
    }

    public int InputSize { get; }
    public int EmbeddingSize { get; }

    /// <summary>Whether the backbone runs channels-last (<see cref="UseChannelsLast"/>).</summary>
    public bool ChannelsLast { get; private set; }

    /// <summary>From now on every input is re-laid channels-last before the first layer (<see
    /// cref="MemoryFormat"/>), so oneDNN's convolutions, batch norm and the elementwise ops after them run NHWC; the
    /// weights and their gradients stay in the default layout, so checkpoints and optimizers see nothing
    /// different.</summary>
    public void UseChannelsLast()
    {
        if (ChannelsLast)
            return;
        ChannelsLast = true;
        register_forward_pre_hook((_, x) => MemoryFormat.ChannelsLast(x));
    }

    /// <summary>Spatial size after a stack of layers, computed by a dry run (so any input size works).</summary>
    protected static long[] OutputShape(nn.Module<Tensor, Tensor> features, int channels, int inputSize)
    {
        using var _ = no_grad();
        using var x = zeros(1, channels, inputSize, inputSize);
        var wasTraining = features.training;
        features.eval();
        using var y = features.call(x);
        if (wasTraining)
            features.train();
        return y.shape;
    }
}

internal static class Layers
{
    public static nn.Module<Tensor, Tensor> ConvBn(
        long cin,
        long cout,
        long k,
        long stride = 1,
        long pad = 0,
        long groups = 1
    ) => nn.Sequential(nn.Conv2d(cin, cout, k, stride, pad, groups: groups, bias: false), nn.BatchNorm2d(cout));

    /// <summary>The VGG classifier stack: fc6 → ReLU → dropout → fc7 → ReLU → dropout → linear to the
    /// embedding.</summary>
    public static nn.Module<Tensor, Tensor> VggClassifier(
        long inFeatures,
        long fcWidth,
        long embeddingSize,
        double dropout
    ) =>
        nn.Sequential(
            nn.Linear(inFeatures, fcWidth),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(fcWidth, fcWidth),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(fcWidth, embeddingSize)
        );

    public static nn.Module<Tensor, Tensor> ConvBnPRelu(
        long cin,
        long cout,
        long k,
        long stride = 1,
        long pad = 0,
        long groups = 1
    ) =>
        nn.Sequential(
            nn.Conv2d(cin, cout, k, stride, pad, groups: groups, bias: false),
            nn.BatchNorm2d(cout),
            nn.PReLU(cout)
        );
}
