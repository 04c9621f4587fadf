using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Distillation.Teachers;

/// <summary>What a teacher produced for a batch (teachers are data). Any part may be absent.</summary>
public sealed record TeacherOutputs(Tensor? Embedding, Tensor? Logits);

/// <summary>
/// A teacher maps a view of a batch to outputs: an embedding and/or logits over a class set. Implementations: a
/// FaceDistill checkpoint (<see cref="CheckpointTeacher"/>); the face-api zoo nets and ONNX models come next.
/// Teachers run without gradients, in evaluation mode.
/// </summary>
public interface ITeacher : IDisposable
{
    string Name { get; }
    int InputSize { get; }
    int EmbeddingSize { get; }

    /// <summary>Classes of the teacher's logits (0 when it has none).</summary>
    int Classes { get; }

    /// <summary>Runs the teacher on images <c>[N, 3, S, S]</c> in [-1, 1] (resized to <see cref="InputSize"/> when
    /// needed).</summary>
    TeacherOutputs Run(Tensor images);
}

internal static class TeacherInput
{
    /// <summary>Bilinear resize to the teacher's input size when the student's differs.</summary>
    public static Tensor Fit(Tensor images, int size) =>
        images.shape[2] == size && images.shape[3] == size
            ? images.alias()
            : nn.functional.interpolate(images, [size, size], mode: InterpolationMode.Bilinear, align_corners: false);
}
