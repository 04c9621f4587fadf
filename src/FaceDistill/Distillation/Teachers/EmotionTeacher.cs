using FaceDistill.Faces.Zoo;
using static TorchSharp.torch;

namespace FaceDistill.Distillation.Teachers;

/// <summary><c>zoo:emotion</c>: human's FER2013 expression net (<see cref="EmotionNet"/>) as a teacher. The student's
/// view (<c>[N, 3, S, S]</c> in [−1, 1], a face crop) is mapped to [0, 1] and preprocessed as human feeds the net
/// (grey, 64 × 64, [−1, 1]). Logits = the 7 pre-softmax scores in FaceDistill's expression order (so KD compares
/// like classes); embedding = the 256-d pooled features of the last residual block.</summary>
public sealed class EmotionTeacher(EmotionNet net) : ITeacher
{
    public string Name => $"zoo:{EmotionNet.Name}";
    public int InputSize => EmotionNet.InputSize;
    public int EmbeddingSize => EmotionNet.FeatureSize;
    public int Classes => EmotionNet.Labels.Length;

    public static EmotionTeacher Load(string? home = null) => new(EmotionNet.Load(home));

    public TeacherOutputs Run(Tensor images)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var (logits, features) = net.Forward(EmotionNet.Input((images + 1) / 2));
        return new TeacherOutputs(features.MoveToOuterDisposeScope(), logits.MoveToOuterDisposeScope());
    }

    public void Dispose() => net.Dispose();
}
