using static TorchSharp.torch;

namespace FaceDistill.Distillation;

/// <summary>
/// The wing loss of Feng et al., "Wing Loss for Robust Facial Landmark Localisation with Convolutional Neural Networks"
/// (CVPR 2018), eq. 5, over every coordinate of every point (in pixels of the net's input):
/// <code>
///   wing(x) = w · ln(1 + |x| / ε)   if |x| &lt; w
///           = |x| − C               otherwise,   C = w − w · ln(1 + w / ε)
/// </code>
/// averaged over the batch's coordinates. Small and medium errors weigh more than under L2 (a log curve near zero),
/// large ones only linearly — what keeps a few wild teacher points from dominating. The paper's w = 10, ε = 2 for
/// 64-pixel inputs are the defaults. Used by the landmark student's distillation (<c>Runs/LandmarkDistillation.cs</c>):
/// the teacher's points on the clean face are <paramref name="target"/>, the student's on the occluded face
/// <paramref name="prediction"/>.
/// </summary>
public static class WingLoss
{
    public static Tensor Compute(Tensor prediction, Tensor target, double w = 10, double epsilon = 2)
    {
        if (w <= 0 || epsilon <= 0)
            throw new ArgumentOutOfRangeException(nameof(w), $"wing loss needs w > 0 and ε > 0 (w={w}, ε={epsilon})");
        using var scope = NewDisposeScope();
        var x = (prediction - target).abs();
        double c = w - w * Math.Log(1 + w / epsilon);
        var small = (x / epsilon).log1p() * w;
        var large = x - c;
        return where(x < w, small, large).mean().MoveToOuterDisposeScope();
    }
}
