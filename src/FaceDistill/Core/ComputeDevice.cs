using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Core;

/// <summary>
/// The one place that knows where models run: chosen once at start-up (<c>--device cpu|cuda|cuda:N</c>), read by
/// every layer that places a model or a batch — the trainer's model and batches (<c>Batch.Tensor</c>), evaluation
/// (<c>Embedder</c>), teachers' inputs and outputs (<c>OnlineTeacher</c>: teachers run on the CPU and their outputs
/// move to the device), and ONNX Runtime sessions (<see cref="OnnxSession"/>). Switching a deployment to a GPU is this
/// option plus the native packages: TorchSharp's CUDA build of libtorch is not on this machine's package source, so
/// <c>--device cuda</c> with the CPU build is a one-line error naming the packages to swap (docs/scaling.md). On the
/// CPU every call here is a no-op.
/// </summary>
public static class ComputeDevice
{
    /// <summary>The packages a CUDA machine references instead of the CPU build (src/FaceDistill/FaceDistill.csproj,
    /// src/FaceDistill.Serve/FaceDistill.Serve.csproj).</summary>
    public const string CudaPackages =
        "replace libtorch-cpu-linux-x64 with libtorch-cuda-12.8-linux-x64 (TorchSharp-cuda-linux) and "
        + "Microsoft.ML.OnnxRuntime with Microsoft.ML.OnnxRuntime.Gpu.Linux";

    /// <summary>What was asked for: "cpu", "cuda" or "cuda:N".</summary>
    public static string Requested { get; private set; } = "cpu";

    public static bool WantsCuda => Requested != "cpu";

    private static Device? _device;

    /// <summary>Sets the device of this process, checked at once: a name that is none of cpu, cuda, cuda:N, or a GPU
    /// libtorch cannot use, is an error naming the option, and the process stays on the device it had.</summary>
    public static void Use(string spec, string option = "--device")
    {
        var s = spec.Trim().ToLowerInvariant();
        bool ok =
            s is "cpu" or "cuda"
            || (s.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(s[5..], out var i) && i >= 0);
        if (!ok)
            throw new FaceDistillException($"{option} {spec}: expected cpu, cuda or cuda:<index>");
        var (before, beforeDevice) = (Requested, _device);
        Requested = s;
        _device = null;
        try
        {
            _ = Torch;
        }
        catch (FaceDistillException)
        {
            (Requested, _device) = (before, beforeDevice);
            throw;
        }
    }

    /// <summary>The CUDA device index asked for (0 for plain "cuda").</summary>
    public static int CudaIndex => Requested.Length > 5 ? int.Parse(Requested[5..]) : 0;

    /// <summary>The libtorch device of the process. Asked for a GPU that libtorch cannot use (the CPU build, no
    /// driver, an index past the last GPU): one line saying why and what to install.</summary>
    public static Device Torch
    {
        get
        {
            if (_device is not null)
                return _device;
            if (!WantsCuda)
                return _device = CPU;
            if (!cuda.is_available())
                throw new FaceDistillException(
                    $"--device {Requested}: libtorch sees no CUDA device (this build uses TorchSharp's CPU "
                        + $"libtorch); on a CUDA machine {CudaPackages}"
                );
            int index = CudaIndex;
            if (index >= cuda.device_count())
                throw new FaceDistillException(
                    $"--device {Requested}: there are {cuda.device_count()} CUDA device(s), numbered from 0"
                );
            return _device = new Device(Requested == "cuda" ? "cuda:0" : Requested);
        }
    }

    public static bool IsCpu => !WantsCuda;

    /// <summary>The tensor on the process's device (itself on the CPU).</summary>
    public static Tensor OnDevice(Tensor t) => IsCpu ? t : t.to(Torch);

    /// <summary>A model on the process's device (itself on the CPU).</summary>
    public static T OnDevice<T>(T module)
        where T : nn.Module
    {
        if (!IsCpu)
            module.to(Torch);
        return module;
    }

    /// <summary>The tensor on the CPU, for reading its values or for a CPU teacher (itself when it is there).</summary>
    public static Tensor OnCpu(Tensor t) => t.device_type == DeviceType.CPU ? t : t.cpu();
}
