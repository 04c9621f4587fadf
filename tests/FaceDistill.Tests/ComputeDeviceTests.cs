using FaceDistill.Core;

namespace FaceDistill.Tests;

/// <summary>The device of the process, chosen in one place: names checked, a GPU this build cannot use refused with
/// one line naming the packages, ONNX Runtime falling back to the CPU with a notice.</summary>
[Collection("gc")]
public class ComputeDeviceTests
{
    [Fact]
    public void BadNamesAndAGpuThisBuildCannotUseAreOneLineErrors()
    {
        var bad = Assert.Throws<FaceDistillException>(() => ComputeDevice.Use("tpu"));
        Assert.Contains("--device tpu: expected cpu, cuda or cuda:<index>", bad.Message);
        Assert.Throws<FaceDistillException>(() => ComputeDevice.Use("cuda:x"));
        if (TorchSharp.torch.cuda.is_available())
            return; // a CUDA build on a GPU machine: nothing to refuse
        var demo = Path.Combine(RepoPaths.Root(), "configs", "demo.json");
        var (code, _, err) = CliHarness.Run("train", demo, "--device", "cuda", "--runs", TestUtil.TempDir());
        Assert.Equal(2, code);
        Assert.Contains("--device cuda: libtorch sees no CUDA device", err);
        Assert.Contains("libtorch-cuda-12.8-linux-x64", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.True(ComputeDevice.IsCpu); // refused: the process stays where it was
    }

    [Fact]
    public void OnTheCpuEveryPlacementIsTheTensorItself()
    {
        using var t = TorchSharp.torch.ones(2);
        Assert.Same(t, ComputeDevice.OnDevice(t));
        Assert.Same(t, ComputeDevice.OnCpu(t));
        Assert.Equal(TorchSharp.DeviceType.CPU, ComputeDevice.Torch.type);
    }

    [Fact]
    public void OnnxRuntimeWithoutItsCudaProviderFallsBackToTheCpuWithOneNotice()
    {
        var model = Path.Combine(TestUtil.TempDir(), "m.onnx");
        using (var net = FaceDistill.Models.ModelFactory.Create(TestUtil.Tiny("onnx"), 8))
            FaceDistill.Export.OnnxExport.Export(net, FaceDistill.Data.FaceTask.Recognition, model);
        var notices = new List<string>();
        var sink = Log.Sink;
        Log.Sink = notices.Add;
        try
        {
            using var session = OnnxSession.Open(model, cuda: true);
            Assert.Single(session.InputMetadata);
        }
        finally
        {
            Log.Sink = sink;
        }
        if (!Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider"))
            Assert.Contains(notices, n => n.Contains("running ONNX models on the CPU"));
    }
}
