using FaceDistill.Training;

namespace FaceDistill.Tests;

/// <summary>The start-up choice of libtorch's convolution path: the faster of a measured probe, cached per shape, and
/// recorded in the checkpoints so a resumed run keeps it.</summary>
[Collection("gc")]
public class ConvolutionPathTests
{
    /// <summary>A machine on which nothing else runs (the real measurement would make these tests depend on what else
    /// the host is doing).</summary>
    private static readonly Func<Func<double>> Quiet = () => () => 0;

    [Fact]
    public void TheFasterPathIsChosenCachedAndReadBackWithoutProbing()
    {
        var file = Path.Combine(TestUtil.TempDir(), "probe.json");
        var env = Environment.GetEnvironmentVariable("FACEDISTILL_MKLDNN");
        Environment.SetEnvironmentVariable("FACEDISTILL_MKLDNN", null);
        try
        {
            int calls = 0;
            var first = ConvolutionPath.Choose(
                "shape-a",
                (oneDnn, channelsLast) =>
                {
                    calls++;
                    return oneDnn ? (channelsLast ? 1.5 : 2.0) : (channelsLast ? 1.2 : 1.0); // native NCHW wins
                },
                file,
                Quiet
            );
            Assert.False(first.OneDnn);
            Assert.False(first.ChannelsLast);
            Assert.Equal(8, calls); // two timed steps per candidate
            Assert.Equal((2.0, 1.0, 1.5), (first.OneDnnSeconds, first.NativeSeconds, first.ChannelsLastSeconds));
            Assert.Equal(1.2, first.NativeChannelsLastSeconds);
            var again = ConvolutionPath.Choose(
                "shape-a",
                (_, _) => throw new InvalidOperationException("probed"),
                file,
                Quiet
            );
            Assert.False(again.OneDnn);
            Assert.Contains("cached", again.Source);
            var other = ConvolutionPath.Choose("shape-b", (oneDnn, cl) => oneDnn ? (cl ? 2.0 : 1.0) : 3.0, file, Quiet);
            Assert.True(other.OneDnn);
            Assert.False(other.ChannelsLast);
            var nhwc = ConvolutionPath.Choose("shape-d", (oneDnn, cl) => oneDnn ? (cl ? 0.5 : 1.0) : 3.0, file, Quiet);
            Assert.True(nhwc.OneDnn && nhwc.ChannelsLast);
            Assert.True(
                ConvolutionPath.Choose("shape-d", (_, _) => throw new InvalidOperationException(), file).ChannelsLast
            );
            var native = ConvolutionPath.Choose(
                "shape-e",
                (oneDnn, cl) => oneDnn ? 1.0 : (cl ? 0.8 : 1.1),
                file,
                Quiet
            );
            Assert.True(!native.OneDnn && native.ChannelsLast); // channels-last on libtorch's own kernels
            Assert.Contains("without, channels-last", ConvolutionPath.Describe(native));
            File.WriteAllText(file, "{ not json");
            Assert.True(ConvolutionPath.Choose("shape-b", (oneDnn, _) => oneDnn ? 1.0 : 3.0, file).OneDnn); // re-probed
        }
        finally
        {
            Environment.SetEnvironmentVariable("FACEDISTILL_MKLDNN", env);
        }
        Assert.True(FaceDistill.Core.TorchRuntime.MkldnnEnabled); // the probe leaves the switch as it found it
    }

    [Fact]
    public void AProbeTakenBesideOtherWorkIsUsedButNotCached()
    {
        var file = Path.Combine(TestUtil.TempDir(), "probe.json");
        var env = Environment.GetEnvironmentVariable("FACEDISTILL_MKLDNN");
        Environment.SetEnvironmentVariable("FACEDISTILL_MKLDNN", null);
        try
        {
            Func<Func<double>> busy = () => () => 0.6,
                quiet = () => () => 0.05;
            var first = ConvolutionPath.Choose("shape-busy", (oneDnn, _) => oneDnn ? 3.0 : 1.0, file, busy);
            Assert.False(first.OneDnn); // used for the run
            Assert.Contains("not cached", first.Source);
            // not cached: the next run probes again, and on a quiet machine its choice is kept
            var second = ConvolutionPath.Choose("shape-busy", (oneDnn, cl) => oneDnn && cl ? 0.5 : 1.0, file, quiet);
            Assert.True(second.OneDnn && second.ChannelsLast);
            Assert.Equal("probe", second.Source);
            var third = ConvolutionPath.Choose("shape-busy", (_, _) => throw new InvalidOperationException(), file);
            Assert.True(third.ChannelsLast);
            Assert.Contains("cached", third.Source);
        }
        finally
        {
            Environment.SetEnvironmentVariable("FACEDISTILL_MKLDNN", env);
        }
    }

    [Fact]
    public void TheCpuShareOfOtherProcessesIsMeasuredAsAFraction()
    {
        var stop = FaceDistill.Core.CpuLoad.Start();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        double x = 0;
        while (sw.ElapsedMilliseconds < 300)
            x += Math.Sqrt(sw.ElapsedTicks); // this process's own work is not counted
        double share = stop();
        Assert.InRange(share, 0, 1);
        Assert.True(x > 0);
    }

    [Fact]
    public void TheEnvironmentForcesThePathAndACheckpointRecordsIt()
    {
        Assert.True(ConvolutionPath.Choose("shape-c", (_, _) => throw new InvalidOperationException("probed")).OneDnn);
        var root = TestUtil.TempDir();
        TrainingRun.Execute(TestUtil.Tiny("recorded", epochs: 1), root, ExistingRun.Refuse);
        var state = Checkpoint.LoadState(Checkpoint.Latest(Path.Combine(root, "recorded", "checkpoints"))!);
        Assert.True(state.OneDnn);
        Assert.Equal(TorchSharp.torch.get_num_threads(), state.Threads);
        Assert.True(state.Threads > 0);
    }
}
