namespace FaceDistill.Data;

/// <summary>
/// A named view of a face: the image after a transform chain (DESIGN.md: <c>clean</c> for the teacher,
/// <c>occluded:mask</c>, <c>lowres:16</c> for the student...). All views of one sample share the same random crop and
/// flip, so they stay pixel-aligned; the transform runs before cropping, with its own deterministic random source.
/// </summary>
public sealed record FaceView(string Name, Func<RgbImage, FaceLabels, Random, RgbImage>? Transform = null)
{
    public static readonly FaceView Clean = new("clean");

    /// <summary>The views by name: <c>clean</c>; <c>lowres:&lt;px&gt;</c> (<see cref="Degradations"/>);
    /// <c>occluded:mask[:surgical|n95|cloth]</c>, <c>occluded:vr</c>, <c>occluded:sunglasses</c>
    /// (<see cref="Faces.Occlusion.Occluder"/>, from the sample's landmarks).</summary>
    public static FaceView Parse(string name) =>
        name.StartsWith(Faces.Occlusion.OcclusionView.Prefix, StringComparison.Ordinal)
            ? Faces.Occlusion.OcclusionView.Create(name)
            : Degradations.View(name);

    public static readonly string[] Examples = ["clean", "lowres:16", "occluded:mask", "occluded:vr", "occluded:sunglasses"];
}
