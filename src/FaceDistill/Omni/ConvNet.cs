using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FaceDistill.Omni;

/// <summary>
/// The ConvNet of the dataset-condensation papers (Gidaris &amp; Komodakis' design as used by Zhao et al.): D blocks of
/// [3×3 conv (W channels) → instance norm (GroupNorm with one group per channel, affine) → ReLU → 2×2 average pool],
/// then a linear classifier on the flattened map. Distribution Matching uses the flattened map ψ(x) as the embedding of
/// a freshly initialised, untrained net; gradient matching trains it briefly on the synthetic set between matching
/// steps. Instance norm, not batch norm: the statistics of a batch of a few synthetic images would be meaningless.
/// </summary>
public sealed class ConvNet : nn.Module<Tensor, Tensor>
{
    private readonly Sequential _features;
    private readonly Linear _classifier;

    public long EmbeddingSize { get; }

    public ConvNet(int classes, int imageSize, int width = 128, int depth = 3)
        : base("ConvNet")
    {
        if (imageSize >> depth < 1)
            throw new Core.FaceDistillException($"a {depth}-block ConvNet needs images of at least {1 << depth} px");
        var layers = new List<nn.Module<Tensor, Tensor>>();
        int channels = 3;
        for (int d = 0; d < depth; d++)
        {
            layers.Add(nn.Conv2d(channels, width, 3, padding: 1));
            // TorchSharp 0.107 leaves GroupNorm's affine parameters uninitialised (garbage, sometimes NaN):
            // PyTorch's defaults, γ = 1 and β = 0, are set here
            var norm = nn.GroupNorm(width, width, affine: true);
            using (no_grad())
            {
                norm.weight!.fill_(1);
                norm.bias!.zero_();
            }
            layers.Add(norm);
            layers.Add(nn.ReLU());
            layers.Add(nn.AvgPool2d(2, 2));
            channels = width;
        }
        layers.Add(nn.Flatten());
        _features = nn.Sequential(layers);
        int side = imageSize >> depth;
        EmbeddingSize = (long)width * side * side;
        _classifier = nn.Linear(EmbeddingSize, classes);
        RegisterComponents();
    }

    /// <summary>ψ(x): the flattened feature map <c>[N, W·(S/2^D)²]</c>.</summary>
    public Tensor Embed(Tensor x) => _features.call(x);

    public override Tensor forward(Tensor x)
    {
        using var e = Embed(x);
        return _classifier.call(e);
    }

    /// <summary>The weights gradient matching compares (biases and norm parameters excluded, as in the
    /// paper).</summary>
    public IReadOnlyList<Parameter> MatchedParameters() =>
        named_parameters()
            .Where(p => p.name.EndsWith("weight", StringComparison.Ordinal) && p.parameter.dim() > 1)
            .Select(p => p.parameter)
            .ToList();
}
