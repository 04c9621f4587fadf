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
            new ViewKind("mix", "mix:<view>@<rate>,<view>@<rate>… (one view per sample, the rest clean)", Mix),
        ]
    );

    /// <summary>
    /// <c>mix:occluded:mask@0.3,lowres:16@0.2</c>: per sample one of the listed views with its rate (drawn from the
    /// sample's own random source, so deterministic for a seed), clean for the remaining 1 − Σ rates.
    /// </summary>
    public static FaceView Mix(string name)
    {
        var parts = name["mix:".Length..]
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
            throw new FaceDistillException($"view '{name}': list the views, e.g. mix:occluded:mask@0.3,lowres:16@0.2");
        var views = new List<(FaceView View, double Rate)>();
        foreach (var part in parts)
        {
            int at = part.LastIndexOf('@');
            if (
                at <= 0
                || !double.TryParse(
                    part[(at + 1)..],
                    System.Globalization.NumberStyles.Float,
                    System.Globalization.CultureInfo.InvariantCulture,
                    out var rate
                )
                || !(rate > 0 && rate <= 1)
            )
                throw new FaceDistillException($"view '{name}': '{part}' must be <view>@<rate> with a rate in (0, 1]");
            var inner = part[..at];
            if (inner.StartsWith("mix:", StringComparison.Ordinal))
                throw new FaceDistillException($"view '{name}': mixes do not nest");
            views.Add((Parse(inner), rate));
        }
        if (views.Sum(v => v.Rate) > 1 + 1e-9)
            throw new FaceDistillException($"view '{name}': the rates add up to more than 1");
        return new FaceView(
            name,
            (img, labels, rng) =>
            {
                double r = rng.NextDouble(),
                    cumulative = 0;
                foreach (var (view, rate) in views)
                {
                    cumulative += rate;
                    if (r < cumulative)
                        return view.Transform is null ? img : view.Transform(img, labels, rng);
                }
                return img;
            }
        );
    }

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

    /// <summary>True when the view draws occluders (alone or in a mix): it needs the faces' 68 landmarks.</summary>
    public static bool IsOcclusion(FaceView view) =>
        view.Name.StartsWith(OcclusionView.Prefix, StringComparison.Ordinal)
        || view.Name.Contains(":" + OcclusionView.Prefix, StringComparison.Ordinal)
        || view.Name.Contains("," + OcclusionView.Prefix, StringComparison.Ordinal);
}
