using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace FaceDistill.Core;

/// <summary>
/// Process-wide libtorch settings, applied once before the first model is built.
/// <para>
/// oneDNN (mkldnn) is switched off: in libtorch 2.10 (TorchSharp 0.107, CPU) its stride-1 3×3 convolution backward with
/// two or more threads is non-deterministic and now and then writes non-finite gradients (measured: an IResNet-18
/// forward/backward on fixed inputs differed between repetitions and produced NaN; with oneDNN off, 30 of 30
/// repetitions were bit-identical, at the same speed). libtorch's native kernels take over. TorchSharp does not expose
/// the switch, so it is set through ATen's global context (<c>at::globalContext().setUserEnabledMkldnn(false)</c>).
/// Set <c>FACEDISTILL_MKLDNN=1</c> to keep oneDNN on.
/// </para>
/// </summary>
public static class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool _done;

    public static bool MkldnnEnabled { get; private set; } = true;

    public static void EnsureInitialized()
    {
        if (_done) return;
        lock (Gate)
        {
            if (_done) return;
            _done = true;
            using var _ = ones(1); // loads libtorch
            if (Environment.GetEnvironmentVariable("FACEDISTILL_MKLDNN") == "1") return;
            try
            {
                var ctx = Native.GlobalContext();
                Native.SetUserEnabledMkldnn(ctx, false);
                MkldnnEnabled = Native.UserEnabledMkldnn(ctx);
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
                Console.Error.WriteLine($"warning: could not switch oneDNN off ({e.Message}); CPU training may be non-deterministic");
            }
        }
    }

    private static class Native
    {
        private const string Lib = "libtorch_cpu";
        [DllImport(Lib, EntryPoint = "_ZN2at13globalContextEv")] public static extern IntPtr GlobalContext();
        [DllImport(Lib, EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")] public static extern void SetUserEnabledMkldnn(IntPtr ctx, [MarshalAs(UnmanagedType.U1)] bool enabled);
        [DllImport(Lib, EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")] [return: MarshalAs(UnmanagedType.U1)] public static extern bool UserEnabledMkldnn(IntPtr ctx);
    }
}
