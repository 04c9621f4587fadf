using FaceDistill.Graphs.Tfjs;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FaceDistill.Faces.Zoo;

/// <summary>face-api's FaceLandmark68Net (<c>face_landmark_68_model</c>) and FaceLandmark68TinyNet
/// (<c>face_landmark_68_tiny_model</c>): <see cref="FaceFeatureExtractor"/> → <c>fc</c> with 136 outputs, the 68 iBUG
/// points as (x₀, y₀, x₁, y₁, …) in units of the padded 112×112 square — no sigmoid (faceapi/SPEC.md §2). Map them to
/// the crop with <see cref="FaceLandmarks.FromNetOutput"/>.</summary>
public sealed class FaceLandmark68Net : ZooNet
{
    public const int InputSize = 112;
    public const string ModelName = "face_landmark_68_model";
    public const string TinyModelName = "face_landmark_68_tiny_model";

    private readonly FaceFeatureExtractor _features;
    private readonly Tensor _fcW,
        _fcB;
    public bool Tiny { get; }

    public FaceLandmark68Net(TfjsWeights weights, bool tiny)
        : base(tiny ? "FaceLandmark68TinyNet" : nameof(FaceLandmark68Net), weights)
    {
        Tiny = tiny;
        _features = new FaceFeatureExtractor(tiny, Conv, Depthwise, Vector);
        _fcW = Dense("fc/weights", _features.FeatureSize, 136);
        _fcB = Vector("fc/bias", 136);
        CheckAllUsed();
    }

    public static FaceLandmark68Net Load(bool tiny = false, string? home = null) =>
        new(TfjsWeights.Load(ModelZoo.CheckedManifest(tiny ? TinyModelName : ModelName, home)), tiny);

    /// <summary>Raw outputs <c>[N, 136]</c> for normalised inputs <c>[N, 3, 112, 112]</c>.</summary>
    public Tensor Forward(Tensor input)
    {
        CheckInput(input, InputSize);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return F.linear(_features.Forward(input), _fcW, _fcB).MoveToOuterDisposeScope();
    }
}
