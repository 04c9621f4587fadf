using Microsoft.ML.OnnxRuntime;

namespace FaceDistill.Core;

/// <summary>ONNX Runtime sessions for the process's device: with <c>--device cuda</c> the CUDA execution provider
/// when the ONNX Runtime package has it (<c>Microsoft.ML.OnnxRuntime.Gpu.Linux</c>), else the CPU with a one-line
/// notice.</summary>
public static class OnnxSession
{
    private static bool _noticed;

    public static InferenceSession Open(string path) => Open(path, ComputeDevice.WantsCuda, ComputeDevice.CudaIndex);

    public static InferenceSession Open(string path, bool cuda, int index = 0)
    {
        if (!cuda)
            return new InferenceSession(path);
        var options = new SessionOptions();
        try
        {
            options.AppendExecutionProvider_CUDA(index);
            return new InferenceSession(path, options);
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            options.Dispose();
            if (!_noticed)
            {
                _noticed = true;
                Log.Warn(
                    $"ONNX Runtime has no CUDA execution provider here ({e.Message.Split('\n')[0].Trim()}); "
                        + "running ONNX models on the CPU (Microsoft.ML.OnnxRuntime.Gpu.Linux has it)"
                );
            }
            return new InferenceSession(path);
        }
    }
}
