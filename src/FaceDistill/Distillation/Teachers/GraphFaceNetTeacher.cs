using FaceDistill.Faces.Zoo;
using static TorchSharp.torch;

namespace FaceDistill.Distillation.Teachers;

/// <summary><c>zoo:faceres</c>, <c>zoo:faceres-deep</c>, <c>zoo:mobileface</c>, <c>zoo:mobilefacenet</c>: an imported
/// face-embedding graph as a teacher. The student's view (<c>[N, 3, S, S]</c> in [−1, 1], a face crop) is mapped to
/// [0, 1] and preprocessed as the net's authors trained it (<see cref="GraphFaceNetSpec"/>). Embedding = the net's
/// descriptor; no logits (logit methods get centroid logits).</summary>
public sealed class GraphFaceNetTeacher(GraphFaceNet net) : ITeacher
{
    public string Name => $"zoo:{net.Spec.Name}";
    public int InputSize => net.Spec.InputSize;
    public int EmbeddingSize => net.Spec.EmbeddingSize;
    public int Classes => 0;

    public static GraphFaceNetTeacher Load(string name, string? home = null) => new(GraphFaceNet.Load(name, home));

    public TeacherOutputs Run(Tensor images)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var input = net.Input((images + 1) / 2);
        var e = net.Embed(input);
        return new TeacherOutputs(e.MoveToOuterDisposeScope(), null);
    }

    public void Dispose() => net.Dispose();
}
