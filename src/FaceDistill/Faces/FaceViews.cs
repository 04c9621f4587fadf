using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Faces.Occlusion;

namespace FaceDistill.Faces;

/// <summary>A family of views, named by the part of a view name before the first ':' (<c>lowres</c> of
/// <c>lowres:16</c>).</summary>
public sealed record ViewKind(string Name, string Syntax, Func<string, FaceView> Create) : INamed;

/// <summary>
/// The registry of views (<c>data.view</c>, <c>eval.view</c>, <c>distill.hardView</c>, experiment <c>views</c>): the
/// clean face, low resolution (<see cref="Degradations"/>) and occluders drawn from the landmarks
/// (<see cref="OcclusionView"/>). A new view is one file with its transform and one line here.
/// </summary>
public static class FaceViews
{
    public static readonly Registry<ViewKind> Registry = new(
        "view",
        [
            new ViewKind("clean", "clean", _ => FaceView.Clean),
            new ViewKind("lowres", "lowres:<pixels>", Degradations.View),
            new ViewKind(
                "occluded",
                "occluded:mask[:surgical|n95|cloth], occluded:vr, occluded:sunglasses",
                OcclusionView.Create
            ),
        ]
    );

    public static readonly string[] Examples =
    [
        "clean",
        "lowres:16",
        "occluded:mask",
        "occluded:vr",
        "occluded:sunglasses",
    ];

    /// <summary>The view called <paramref name="name"/>; an unknown one is an error listing the known forms.</summary>
    public static FaceView Parse(string name)
    {
        var kind = Registry.Find(name.Split(':')[0]);
        if (kind is null)
            throw new FaceDistillException(
                $"unknown view '{name}' (expected {string.Join(", ", Registry.Entries.Select(k => k.Syntax))})"
            );
        return kind.Create(name);
    }

    public static bool IsOcclusion(FaceView view) =>
        view.Name.StartsWith(OcclusionView.Prefix, StringComparison.Ordinal);
}
