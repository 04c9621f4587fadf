using System.Runtime.CompilerServices;

namespace FaceDistill.Tests;

internal static class TestEnvironment
{
    /// <summary>Every run of the suite, and every CLI process it starts, takes oneDNN's convolution path without the
    /// start-up probe: a probe racing another test's on the same model shape could pick the other path and make two
    /// runs that must be bit-identical differ. The probe itself is tested with its own cache file
    /// (<c>ConvolutionPathTests</c>).</summary>
    [ModuleInitializer]
    internal static void FixTheConvolutionPath() => Environment.SetEnvironmentVariable("FACEDISTILL_MKLDNN", "1");
}
