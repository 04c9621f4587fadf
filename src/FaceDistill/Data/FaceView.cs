namespace FaceDistill.Data;

/// <summary>A named view of a face: the image after a transform chain (<c>clean</c> for the teacher,
/// <c>occluded:mask</c>, <c>lowres:16</c> for the student...; by name: <c>Faces.FaceViews</c>). All views of one sample
/// share the same random crop and flip, so they stay pixel-aligned; the transform runs before cropping, with its own
/// deterministic random source.</summary>
public sealed record FaceView(string Name, Func<RgbImage, FaceLabels, Random, RgbImage>? Transform = null)
{
    public static readonly FaceView Clean = new("clean");
}
