using static TorchSharp.torch;

namespace FaceDistill.Omni;

/// <summary>One dataset-condensation algorithm (<see cref="DistributionMatching"/>, <see cref="GradientMatching"/>):
/// one iteration of its objective on the synthetic set, which calls <c>step</c> with each loss it wants the images to
/// descend (one or more times), and returns the last loss value. Every random choice of an iteration is a function of
/// (seed, iteration), so a resumed condensation continues exactly as an uninterrupted one.</summary>
public interface ICondensation
{
    double Iterate(int iteration, SyntheticSet syn, RealSampler real, Action<Tensor> step);
}
