using FaceDistill.Graphs.Tfjs;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FaceDistill.Faces.Zoo;

/// <summary>
/// face-api's FaceRecognitionNet (<c>face_recognition_model</c>): dlib's ResNet-34-style metric net, 150×150 input,
/// 128-d descriptor (faceapi/SPEC.md §1). Each conv layer is <c>conv + bias</c> followed by a per-channel scale layer
/// <c>y·s[c] + b[c]</c>.
/// <code>
/// residual(x)     = relu( S₂(conv₂(relu(S₁(conv₁(x))))) + x )                    3×3, stride 1, SAME
/// residualDown(x) = relu( avgpool₂ₓ₂(x) ⊕ S₂(conv₂(relu(S₁(conv₁ˢ²ᵛᵃˡⁱᵈ(x))))) )
/// </code>
/// where ⊕ zero-pads the conv branch by one row/column at the bottom/right when it is spatially smaller (3→4, 1→2)
/// and the pooled shortcut with zero channels appended after. The descriptor <c>fc(mean_hw(x))</c> (no bias) is not
/// L2-normalised: face-api compares descriptors by Euclidean distance, threshold 0.6.
/// </summary>
public sealed class FaceRecognitionNet : ZooNet
{
    public const int InputSize = 150;
    public const int DescriptorSize = 128;
    public const string ModelName = "face_recognition_model";

    private sealed record ConvLayer(Tensor Filters, Tensor Bias, Tensor ScaleW, Tensor ScaleB);

    private readonly Dictionary<string, ConvLayer> _layers = new();
    private readonly Tensor _fc;

    private static readonly (string Name, int Cin, int Cout, bool Down)[] Blocks =
    [
        ("conv32_1", 32, 32, false),
        ("conv32_2", 32, 32, false),
        ("conv32_3", 32, 32, false),
        ("conv64_down", 32, 64, true),
        ("conv64_1", 64, 64, false),
        ("conv64_2", 64, 64, false),
        ("conv64_3", 64, 64, false),
        ("conv128_down", 64, 128, true),
        ("conv128_1", 128, 128, false),
        ("conv128_2", 128, 128, false),
        ("conv256_down", 128, 256, true),
        ("conv256_1", 256, 256, false),
        ("conv256_2", 256, 256, false),
        ("conv256_down_out", 256, 256, true),
    ];

    public FaceRecognitionNet(TfjsWeights weights)
        : base(nameof(FaceRecognitionNet), weights)
    {
        Layer("conv32_down", 7, 3, 32);
        foreach (var (name, cin, cout, _) in Blocks)
        {
            Layer($"{name}/conv1", 3, cin, cout);
            Layer($"{name}/conv2", 3, cout, cout);
        }
        _fc = Dense("fc", 256, DescriptorSize);
        CheckAllUsed();
    }

    public static FaceRecognitionNet Load(string? home = null) =>
        new(TfjsWeights.Load(ModelZoo.CheckedManifest(ModelName, home)));

    private void Layer(string p, int k, int cin, int cout) =>
        _layers[p] = new ConvLayer(
            Conv($"{p}/conv/filters", k, k, cin, cout),
            Vector($"{p}/conv/bias", cout),
            Vector($"{p}/scale/weights", cout),
            Vector($"{p}/scale/biases", cout)
        );

    private Tensor Apply(string p, Tensor x, long stride, bool same, bool relu)
    {
        var l = _layers[p];
        using var conv = same
            ? TfOps.Conv2dSame(x, l.Filters, l.Bias, stride)
            : TfOps.Conv2dValid(x, l.Filters, l.Bias, stride);
        var scaled = TfOps.ChannelAffine(conv, l.ScaleW, l.ScaleB);
        return relu ? scaled.relu_() : scaled;
    }

    private Tensor Residual(string p, Tensor x)
    {
        using var a = Apply($"{p}/conv1", x, 1, true, true);
        using var b = Apply($"{p}/conv2", a, 1, true, false);
        return (b + x).relu_();
    }

    private Tensor ResidualDown(string p, Tensor x)
    {
        using var a = Apply($"{p}/conv1", x, 2, false, true);
        var b = Apply($"{p}/conv2", a, 1, true, false);
        var pooled = TfOps.AvgPoolValid(x, 2, 2);
        if (b.shape[2] < pooled.shape[2] || b.shape[3] < pooled.shape[3])
        {
            var padded = F.pad(b, [0, pooled.shape[3] - b.shape[3], 0, pooled.shape[2] - b.shape[2]]);
            b.Dispose();
            b = padded;
        }
        if (pooled.shape[1] < b.shape[1])
        {
            using var zeros = torch.zeros(
                pooled.shape[0],
                b.shape[1] - pooled.shape[1],
                pooled.shape[2],
                pooled.shape[3],
                dtype: pooled.dtype
            );
            var cat = torch.cat([pooled, zeros], 1);
            pooled.Dispose();
            pooled = cat;
        }
        using (b)
        using (pooled)
            return (pooled + b).relu_();
    }

    /// <summary>Descriptors <c>[N, 128]</c> for normalised inputs <c>[N, 3, 150, 150]</c>.</summary>
    public Tensor Forward(Tensor input)
    {
        CheckInput(input, InputSize);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var x = Apply("conv32_down", input, 2, false, true);
        x = F.max_pool2d(x, [3, 3], [2, 2]);
        foreach (var (name, _, _, down) in Blocks)
            x = down ? ResidualDown(name, x) : Residual(name, x);
        var pooled = x.mean([2, 3]);
        return F.linear(pooled, _fc).MoveToOuterDisposeScope();
    }
}
