using FaceDistill.Models;
using FaceDistill.Training;
using static TorchSharp.torch;

namespace FaceDistill.Tests;

/// <summary>Channels-last training (<see cref="MemoryFormat"/>): the same values in another layout, checkpoints that
/// load into an ordinary model, and a run that records its layout and resumes to the same weights.</summary>
[Collection("gc")] // sets FACEDISTILL_CHANNELS_LAST, which every training run of the process reads
public class MemoryFormatTests
{
    [Fact]
    public void ChannelsLastKeepsTheOutputsAndTheCheckpointsOfABackbone()
    {
        using var x = randn(4, 3, 32, 32);
        using var nhwc = MemoryFormat.ChannelsLast(x);
        Assert.False(MemoryFormat.IsChannelsLast(x));
        Assert.True(MemoryFormat.IsChannelsLast(nhwc));
        Assert.True(nhwc.eq(x).all().item<bool>());
        using (var conv = nn.Conv2d(3, 8, 3))
        using (var y = conv.call(nhwc))
            Assert.True(MemoryFormat.IsChannelsLast(y)); // libtorch keeps the layout: what the backbones rely on
        manual_seed(3);
        using var net = Backbones.Create("mobilefacenet", 32, 32);
        net.eval();
        using var before = net.call(x).detach();
        net.UseChannelsLast();
        Assert.True(net.ChannelsLast);
        using var after = net.call(x).detach();
        Assert.True(after.allclose(before, rtol: 1e-4, atol: 1e-5));
        var file = Path.Combine(TestUtil.TempDir(), "model.bin");
        net.save(file); // the weights stay in the default layout: TorchSharp writes only contiguous tensors
        manual_seed(4);
        using var plain = Backbones.Create("mobilefacenet", 32, 32);
        plain.load(file);
        plain.eval();
        using var loaded = plain.call(x).detach();
        Assert.True(loaded.allclose(before, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void AChannelsLastRunRecordsItsLayoutAndResumesToTheSameWeights()
    {
        var was = Environment.GetEnvironmentVariable("FACEDISTILL_CHANNELS_LAST");
        Environment.SetEnvironmentVariable("FACEDISTILL_CHANNELS_LAST", "1");
        try
        {
            var root = TestUtil.TempDir();
            var cfg = TestUtil.Tiny("nhwc", epochs: 2);
            var straight = TrainingRun.Execute(cfg, root, ExistingRun.Refuse);
            var state = Checkpoint.LoadState(Checkpoint.Latest(Path.Combine(root, "nhwc", "checkpoints"))!);
            Assert.True(state.ChannelsLast);
            var cut = cfg with { Name = "nhwc-cut" };
            TrainingRun.Execute(cut, root, ExistingRun.Refuse, stopAfterStep: 3);
            Environment.SetEnvironmentVariable("FACEDISTILL_CHANNELS_LAST", "0"); // the checkpoint decides a resume
            var resumed = TrainingRun.Execute(cut, root, ExistingRun.Resume);
            Assert.Equal(straight.Result.Steps, resumed.Result.Steps);
            Assert.Equal(
                TestUtil.CheckpointWeights(Path.Combine(root, "nhwc", "checkpoints"), cfg, straight.Data.Classes),
                TestUtil.CheckpointWeights(Path.Combine(root, "nhwc-cut", "checkpoints"), cut, resumed.Data.Classes)
            );
        }
        finally
        {
            Environment.SetEnvironmentVariable("FACEDISTILL_CHANNELS_LAST", was);
        }
    }
}
