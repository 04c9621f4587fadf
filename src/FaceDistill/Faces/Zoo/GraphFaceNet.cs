using FaceDistill.Graphs.Tfjs;
using static TorchSharp.torch;

namespace FaceDistill.Faces.Zoo;

/// <summary>What an imported face-embedding graph needs to be used as its authors trained it: input size, the affine
/// map from crop pixels in [0, 1] to the graph's input (<c>x·Scale + Offset</c>, after TF-legacy bilinear resizing to
/// the input size), the output node of the embedding and its width.</summary>
public sealed record GraphFaceNetSpec(
    string Name,
    int InputSize,
    float Scale,
    float Offset,
    string Output,
    int EmbeddingSize,
    string About
)
{
    /// <summary>The preprocessing in words (recorded with every result that uses the net).</summary>
    public string Preprocessing =>
        $"RGB crop in [0, 1] → TF-legacy bilinear resize to {InputSize}×{InputSize} → ×{Scale:0.######}"
        + (Offset == 0 ? "" : $" {(Offset < 0 ? "−" : "+")} {Math.Abs(Offset):0.######}");
}

/// <summary>The face-embedding graphs of human's packages FaceDistill imports (<see cref="HumanZoo"/>), by name: the
/// teachers <c>zoo:faceres</c>, <c>zoo:faceres-deep</c>, <c>zoo:mobileface</c>, <c>zoo:mobilefacenet</c>.</summary>
public static class GraphFaceNets
{
    public static readonly IReadOnlyDictionary<string, GraphFaceNetSpec> All = new[]
    {
        // human feeds faceres a crop in [0, 1] resized to 224 and × 255
        new GraphFaceNetSpec(
            "faceres",
            224,
            255f,
            0f,
            FaceRes.DescriptorOutput,
            1024,
            "HSE-asavchenko's MobileNet-v1 face model (human's default descriptor)"
        ),
        new GraphFaceNetSpec(
            "faceres-deep",
            224,
            255f,
            0f,
            FaceRes.DescriptorOutput,
            1024,
            "the deeper variant of faceres in human-models"
        ),
        // an InsightFace MobileFaceNet converted from MXNet: the graph subtracts 127.5 and scales by 1/128 itself
        new GraphFaceNetSpec(
            "mobileface",
            112,
            255f,
            0f,
            "batchnorm0/add_1",
            256,
            "InsightFace-style MobileFaceNet (becauseofAI MobileFace), 256-d"
        ),
        // sirius-ai's TensorFlow MobileFaceNet: trained on (x − 127.5)/128, ends in an L2-normalised 192-d embedding
        new GraphFaceNetSpec(
            "mobilefacenet",
            112,
            255f / 128f,
            -127.5f / 128f,
            "embeddings",
            192,
            "sirius-ai's TensorFlow MobileFaceNet (PReLU as relu + α·(x − |x|)/2), 192-d"
        ),
    }.ToDictionary(s => s.Name);
}

/// <summary>An imported face-embedding graph (<see cref="GraphFaceNetSpec"/>) as a module: its weights are parameters
/// of <see cref="Module"/>, so it can be frozen as a teacher or fine-tuned.</summary>
public sealed class GraphFaceNet : IDisposable
{
    public GraphFaceNetSpec Spec { get; }
    public TfjsGraphModule Module { get; }

    public GraphFaceNet(GraphFaceNetSpec spec, TfjsGraphModule module)
    {
        (Spec, Module) = (spec, module);
        Module.eval();
    }

    /// <summary>The installed net, its package's files checked against the checksums recorded at
    /// installation.</summary>
    public static GraphFaceNet Load(string name, string? home = null)
    {
        if (!GraphFaceNets.All.TryGetValue(name, out var spec))
            throw new Core.FaceDistillException(
                $"zoo:{name}: not an imported face net ({string.Join(", ", GraphFaceNets.All.Keys)})"
            );
        if (HumanZoo.VerifyModel(name, home) is [var problem, ..])
            throw new Core.FaceDistillException(problem);
        return new GraphFaceNet(spec, new TfjsGraphModule(TfjsGraph.Load(HumanZoo.ModelJson(name, home)), name));
    }

    /// <summary>Crops in [0, 1] (NCHW, any size) → the graph's input (<see cref="GraphFaceNetSpec"/>).</summary>
    public Tensor Input(Tensor crops01)
    {
        using var resized = TfOps.ResizeBilinearLegacy(crops01, Spec.InputSize, Spec.InputSize);
        using var scaled = resized * Spec.Scale;
        return scaled + Spec.Offset;
    }

    /// <summary>The embedding of graph input (<see cref="Input"/>), <c>[N, EmbeddingSize]</c>.</summary>
    public Tensor Embed(Tensor input) => Module.Run(input, [Spec.Output])[Spec.Output];

    public void Dispose() => Module.Dispose();
}
