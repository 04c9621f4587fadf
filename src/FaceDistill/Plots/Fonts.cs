using SkiaSharp;

namespace FaceDistill.Plots;

/// <summary>
/// The typeface for plots. SkiaSharp's dependency-free Linux build has no fontconfig, so its default typeface draws no
/// text: a TrueType font is loaded from the usual system locations instead (set-up installs fonts-dejavu-core).
/// </summary>
public static class Fonts
{
    private static readonly string[] Candidates =
    [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/System/Library/Fonts/Helvetica.ttc",
        "C:\\Windows\\Fonts\\arial.ttf",
    ];

    /// <summary>The font file used, or null when none of the usual ones exists.</summary>
    public static string? SansPath { get; } = Candidates.FirstOrDefault(File.Exists);

    private static readonly Lazy<SKTypeface> SansLazy = new(() =>
        SansPath is not null && SKTypeface.FromFile(SansPath) is { } tf ? tf : SKTypeface.Default
    );

    public static SKTypeface Sans => SansLazy.Value;
}
