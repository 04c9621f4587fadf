using FaceDistill.Faces.Zoo;
using static TorchSharp.torch;

namespace FaceDistill.Distillation.Teachers;

/// <summary><c>zoo:faceres</c>: human's faceres as a teacher. The student's view (<c>[N, 3, S, S]</c> in [−1, 1], a
/// face crop) is mapped to [0, 1] and preprocessed as human does (<see cref="FaceRes.Input(Tensor)"/>). Embedding = the
/// 1024-d descriptor; no logits (logit methods get centroid logits).</summary>
public sealed class FaceResTeacher(FaceRes net) : ITeacher
{
    public string Name => "zoo:faceres";
    public int InputSize => FaceRes.InputSize;
    public int EmbeddingSize => FaceRes.DescriptorSize;
    public int Classes => 0;

    public static FaceResTeacher Load(string? home = null) => new(FaceRes.Load(home));

    public TeacherOutputs Run(Tensor images)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var input = FaceRes.Input((images + 1) / 2);
        var o = net.Forward(input);
        return new TeacherOutputs(o.Descriptor.MoveToOuterDisposeScope(), null);
    }

    public void Dispose() => net.Dispose();
}
