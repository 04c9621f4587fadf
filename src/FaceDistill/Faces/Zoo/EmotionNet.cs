using FaceDistill.Graphs.Tfjs;
using static TorchSharp.torch;

namespace FaceDistill.Faces.Zoo;

/// <summary>
/// human's expression net (<c>models/emotion.json</c> of <c>@vladmandic/human@3.3.6</c>, credited there to Oarriaga's
/// face_classification): a Keras big-XCEPTION-style CNN on 64×64 grey faces (two plain convolutions, two residual
/// separable-convolution blocks with max pooling, a 7-channel convolution, global average pooling, softmax), trained
/// on FER2013 by its authors. Imported from its tfjs graph (<see cref="TfjsGraphModule"/>) and preprocessed as human
/// feeds it: the RGB face crop in [0, 1], TF-legacy bilinear resize to 64 × 64, grey =
/// <c>0.2989 R + 0.5870 G + 0.1140 B</c>, then <c>(grey − 0.5) · 2</c>.
/// <para>Outputs: the logits are the global-average-pooled 7-channel map (the softmax's input, so
/// <c>softmax(logits)</c> is the graph's own output), given here in FaceDistill's class order (FER2013's: angry,
/// disgust, fear, happy, neutral, sad, surprise) from the net's (angry, disgust, fear, happy, sad, surprise,
/// neutral); the features are the last residual block's map, average-pooled (256-d).</para>
/// <para>Caveat (docs/results/teachers.md): Oarriaga's training script holds out the last 20 % of fer2013.csv — its
/// PublicTest and PrivateTest rows, i.e. the FER2013 test split FaceDistill reports on — as the validation set that
/// early stopping, the learning-rate schedule and checkpoint selection watch. The net never trained on those faces,
/// but it was chosen on them, so its own accuracy there is optimistic.</para>
/// </summary>
public sealed class EmotionNet : IDisposable
{
    public const string Name = "emotion";
    public const int InputSize = 64;
    public const int FeatureSize = 256;
    public const string LogitsOutput = "StatefulPartitionedCall/model_1/global_average_pooling2d_1/Mean";
    public const string ProbabilitiesOutput = "StatefulPartitionedCall/model_1/predictions/Softmax";
    public const string FeatureOutput = "StatefulPartitionedCall/model_1/add_2/add";

    /// <summary>The net's labels, in its output order.</summary>
    public static readonly string[] Labels = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"];

    /// <summary>For each FaceDistill expression (FER2013 order), the net's output index.</summary>
    public static readonly long[] FerOrder = [0, 1, 2, 3, 6, 4, 5];

    /// <summary>The preprocessing in words (recorded with every result that uses the net).</summary>
    public const string Preprocessing =
        "RGB crop in [0, 1] → TF-legacy bilinear resize to 64×64 → grey 0.2989 R + 0.5870 G + 0.1140 B"
        + " → (grey − 0.5)·2";

    public TfjsGraphModule Module { get; }

    public EmotionNet(TfjsGraphModule module)
    {
        Module = module;
        Module.eval();
    }

    /// <summary>The installed net, its package's files checked against the checksums recorded at
    /// installation.</summary>
    public static EmotionNet Load(string? home = null)
    {
        if (HumanZoo.VerifyModel(Name, home) is [var problem, ..])
            throw new Core.FaceDistillException(problem);
        return new EmotionNet(new TfjsGraphModule(TfjsGraph.Load(HumanZoo.ModelJson(Name, home)), Name));
    }

    /// <summary>RGB crops in [0, 1] (NCHW, any size) → the graph's input <c>[N, 1, 64, 64]</c> in [−1, 1].</summary>
    public static Tensor Input(Tensor crops01)
    {
        using var scope = NewDisposeScope();
        var resized = TfOps.ResizeBilinearLegacy(crops01, InputSize, InputSize);
        var weights = tensor(new[] { 0.2989f, 0.5870f, 0.1140f }).view(1, 3, 1, 1);
        var grey = (resized * weights).sum(1, keepdim: true);
        return ((grey - 0.5f) * 2f).MoveToOuterDisposeScope();
    }

    /// <summary>Logits in FaceDistill's expression order <c>[N, 7]</c> and pooled features <c>[N, 256]</c> of graph
    /// input (<see cref="Input"/>).</summary>
    public (Tensor Logits, Tensor Features) Forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var o = Module.Run(input, [LogitsOutput, FeatureOutput]);
        using var order = tensor(FerOrder);
        var logits = o[LogitsOutput].index_select(1, order);
        var features = o[FeatureOutput].mean([2, 3]);
        return (logits.MoveToOuterDisposeScope(), features.MoveToOuterDisposeScope());
    }

    public void Dispose() => Module.Dispose();
}
