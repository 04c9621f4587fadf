using FaceDistill.Core;

namespace FaceDistill.Omni;

/// <summary>The keys of a condensation (config <c>derive[].condense</c>).</summary>
/// <param name="Algorithm">dm (Distribution Matching, the default) | gm (gradient matching) | random | herding</param>
/// <param name="ImagesPerClass">N, the synthetic (or selected) images per class</param>
/// <param name="Iterations">outer iterations (dm: one per fresh random net; gm: one per fresh θ_0)</param>
/// <param name="LearningRate">η_S of the images (SGD with momentum, as in both papers)</param>
/// <param name="RealBatch">real images per class and matching step</param>
/// <param name="OuterLoop">gm: matching steps per θ_0 (T)</param>
/// <param name="InnerLoop">gm: network steps on the synthetic set between matching steps (ς_θ)</param>
/// <param name="NetLearningRate">gm: η_θ</param>
/// <param name="SaveEvery">iterations between resumable snapshots</param>
/// <param name="SoftLabels">none (hard labels, the default) | model (each image's label is the primitive model's
/// posterior softmax(z/τ) at <c>labelTemperature</c>; any algorithm) | learned (gm only: a label distribution per
/// image, softmax of learned logits, descended by the same matching loss as the pixels —
/// <see cref="GradientMatching"/>)</param>
/// <param name="LabelTemperature">τ of <c>softLabels: model</c></param>
/// <param name="LabelLearningRate">η_y of the learned label logits (SGD with the images' momentum)</param>
public sealed record CondenseOptions(
    string Algorithm = "dm",
    int ImagesPerClass = 10,
    int Iterations = 500,
    double LearningRate = 1.0,
    double Momentum = 0.5,
    int RealBatch = 64,
    int NetWidth = 128,
    int NetDepth = 3,
    int OuterLoop = 10,
    int InnerLoop = 10,
    double NetLearningRate = 0.01,
    int SaveEvery = 25,
    int Seed = 0,
    string SoftLabels = "none",
    double LabelTemperature = 1.0,
    double LabelLearningRate = 1.0
)
{
    public static readonly string[] Algorithms = ["dm", "gm", "random", "herding"];

    public static readonly string[] SoftLabelKinds = ["none", "model", "learned"];

    /// <summary>Whether the condensation learns a label distribution per image.</summary>
    public bool LearnsLabels => SoftLabels == "learned";

    /// <summary>Whether the images are learned (dm, gm) rather than selected (random, herding).</summary>
    public bool Learned => Algorithm is "dm" or "gm";

    public void Check()
    {
        void Range(string key, double v, double lo, double hi)
        {
            if (!(v >= lo && v <= hi))
                throw new FaceDistillException($"condense.{key} must be in [{lo}, {hi}], found {v}");
        }
        if (!Algorithms.Contains(Algorithm))
            throw new FaceDistillException(
                $"condense.algorithm '{Algorithm}' is not one of {string.Join(", ", Algorithms)}"
            );
        Range("imagesPerClass", ImagesPerClass, 1, 10_000);
        Range("iterations", Iterations, 1, 1_000_000);
        Range("learningRate", LearningRate, 1e-6, 1e4);
        Range("momentum", Momentum, 0, 0.999);
        Range("realBatch", RealBatch, 1, 4096);
        Range("netWidth", NetWidth, 1, 1024);
        Range("netDepth", NetDepth, 1, 6);
        Range("outerLoop", OuterLoop, 1, 1000);
        Range("innerLoop", InnerLoop, 0, 1000);
        Range("netLearningRate", NetLearningRate, 1e-6, 10);
        Range("saveEvery", SaveEvery, 1, 1_000_000);
        if (!SoftLabelKinds.Contains(SoftLabels))
            throw new FaceDistillException(
                $"condense.softLabels '{SoftLabels}' is not one of {string.Join(", ", SoftLabelKinds)}"
            );
        if (LearnsLabels && Algorithm != "gm")
            throw new FaceDistillException(
                $"condense.softLabels 'learned' needs algorithm 'gm' (the labels are learned by gradient matching; "
                    + $"'{Algorithm}' has no label in its objective): use 'model' for {Algorithm}"
            );
        Range("labelTemperature", LabelTemperature, 0.05, 100);
        Range("labelLearningRate", LabelLearningRate, 1e-6, 1e4);
    }
}
