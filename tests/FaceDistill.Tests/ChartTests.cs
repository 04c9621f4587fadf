using FaceDistill.Plots;

namespace FaceDistill.Tests;

/// <summary>The bar chart of an experiment keeps long row names readable (found on pool-distillation-mobileface.png,
/// where rotated names were cut off at the image's bottom edge).</summary>
public class ChartTests
{
    private static (int Width, int Height) PngSize(byte[] png) =>
        (
            System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)),
            System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20))
        );

    private static byte[] Bars(params string[] groups)
    {
        var values = new double[groups.Length, 2];
        var errors = new double[groups.Length, 2];
        for (int g = 0; g < groups.Length; g++)
            (values[g, 0], values[g, 1]) = (80 + g, 70 + g);
        return Charts.Bars("t", "acc (%)", groups, ["clean", "mask"], values, errors);
    }

    [Fact]
    public void LongRowNamesMakeTheChartTallerInsteadOfBeingCutOff()
    {
        var shortNames = PngSize(Bars("a", "b", "c"));
        Assert.Equal((Charts.Width, Charts.Height), shortNames);
        var longNames = PngSize(
            Bars("mobileface", "mobileface-self-clean60-fer", "mobileface-self-clean60-fer+lsq-fer")
        );
        Assert.Equal(Charts.Width, longNames.Width);
        // 36 characters at 45°: well over 100 px more below the axis
        Assert.InRange(longNames.Height - Charts.Height, 100, 300);
        // a longer name needs more room
        var longer = PngSize(Bars("a", "b", "c", "d", "e", new string('x', 60)));
        Assert.True(longer.Height > longNames.Height);
    }
}
