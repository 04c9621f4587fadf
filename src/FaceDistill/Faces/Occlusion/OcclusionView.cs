using FaceDistill.Core;
using FaceDistill.Data;

namespace FaceDistill.Faces.Occlusion;

/// <summary>The <c>occluded:&lt;occluder&gt;</c> views: the face with an <see cref="Occluder"/> drawn from its
/// landmarks. The sample must carry its 68 landmarks (<see cref="FaceLabels.Landmarks"/>: the synthetic faces do, file
/// datasets through <c>data.landmarks</c>); a sample without them is an error naming the image, never a silently clean
/// view.</summary>
public static class OcclusionView
{
    public const string Prefix = "occluded:";

    public static FaceView Create(string name)
    {
        if (!name.StartsWith(Prefix, StringComparison.Ordinal))
            throw new FaceDistillException($"'{name}' is not an occluded view");
        var occluder = Occluder.Parse(name[Prefix.Length..]);
        return new FaceView(
            name,
            (img, labels, rng) =>
                labels.Landmarks is { } lm
                    ? occluder.Apply(img, lm, rng)
                    : throw new FaceDistillException(
                        $"view '{name}' needs the face's 68 landmarks, and this image has none (set data.landmarks to "
                            + $"a landmarks CSV, or to \"zoo\" to compute them)"
                    )
        );
    }
}
