using FaceDistill.Graphs.Tfjs;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FaceDistill.Faces.Zoo;

/// <summary>face-api's FaceExpressionNet (<c>face_expression_model</c>): <see cref="FaceFeatureExtractor"/> (full) →
/// <c>fc</c> with 7 logits; probabilities are <c>softmax(logits)</c> over <see cref="Labels"/> in that order
/// (faceapi/SPEC.md §2). The pipeline feeds it the <c>alignedRect</c> crop.</summary>
public sealed class FaceExpressionNet : ZooNet
{
    public const int InputSize = 112;
    public const string ModelName = "face_expression_model";
    public static readonly string[] Labels = ["neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"];

    /// <summary>FER2013's class names (FaceDistill's <c>Expression</c> order) → face-api's labels.</summary>
    public static readonly IReadOnlyDictionary<string, string> Fer2013ToFaceApi = new Dictionary<string, string>
    {
        ["angry"] = "angry",
        ["disgust"] = "disgusted",
        ["fear"] = "fearful",
        ["happy"] = "happy",
        ["neutral"] = "neutral",
        ["sad"] = "sad",
        ["surprise"] = "surprised",
    };

    private readonly FaceFeatureExtractor _features;
    private readonly Tensor _fcW,
        _fcB;

    public FaceExpressionNet(TfjsWeights weights)
        : base(nameof(FaceExpressionNet), weights)
    {
        _features = new FaceFeatureExtractor(false, Conv, Depthwise, Vector);
        _fcW = Dense("fc/weights", _features.FeatureSize, Labels.Length);
        _fcB = Vector("fc/bias", Labels.Length);
        CheckAllUsed();
    }

    public static FaceExpressionNet Load(string? home = null) =>
        new(TfjsWeights.Load(ModelZoo.CheckedManifest(ModelName, home)));

    /// <summary>Logits <c>[N, 7]</c> for normalised inputs <c>[N, 3, 112, 112]</c>.</summary>
    public Tensor Forward(Tensor input)
    {
        CheckInput(input, InputSize);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return F.linear(_features.Forward(input), _fcW, _fcB).MoveToOuterDisposeScope();
    }

    /// <summary>The 256-d pooled features before <c>fc</c> (for feature distillation).</summary>
    public Tensor Features(Tensor input)
    {
        CheckInput(input, InputSize);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return _features.Forward(input).MoveToOuterDisposeScope();
    }
}
