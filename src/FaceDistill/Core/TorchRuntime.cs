using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace FaceDistill.Core;

/// <summary>Process-wide libtorch settings, applied before the first model is built.
/// <list type="bullet">
/// <item>oneDNN is capped at AVX2 (<c>ONEDNN_MAX_CPU_ISA=AVX2</c>, unless the user set it): its AVX-512 convolution
/// backward can be non-deterministic and write non-finite gradients (measured: docs/platform-notes.md). The variable
/// must be in the native environment before oneDNN's first primitive, so it is set with libc's <c>setenv</c> from a
/// module initializer.</item>
/// <item>NNPACK is switched off: it cannot initialise on such CPUs ("Unsupported hardware"), and libtorch would retry
/// and warn on every convolution.</item>
/// <item>glibc's allocator keeps freed memory for reuse instead of handing every large block back to the kernel
/// (<c>mallopt(M_MMAP_MAX, 0)</c>, <c>mallopt(M_TRIM_THRESHOLD, 2 GB)</c>). libtorch allocates each activation and
/// gradient anew every step; above 32 MB glibc serves such blocks with <c>mmap</c> and returns them with
/// <c>munmap</c>, so every step would fault its working set in again, page by page (the cost is measured in
/// docs/benchmarks.md); kept in the heap, the price is that the process keeps its peak memory.
/// <c>FACEDISTILL_MALLOC=system</c> leaves glibc's defaults.</item>
/// </list>
/// <c>FACEDISTILL_MKLDNN=0</c> switches oneDNN off entirely.</summary>
public static class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool _done;

    public static bool MkldnnEnabled { get; private set; } = true;
    public static string OneDnnMaxIsa { get; private set; } = "";

    [ModuleInitializer]
    internal static void SetNativeEnvironment()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA")) && OperatingSystem.IsLinux())
        {
            try
            {
                Native.setenv("ONEDNN_MAX_CPU_ISA", "AVX2", 0);
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            { /* not glibc: leave oneDNN as it is */
            }
        }
        OneDnnMaxIsa = Marshal.PtrToStringAnsi(Native.getenv("ONEDNN_MAX_CPU_ISA")) ?? "";
        if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("FACEDISTILL_MALLOC") != "system")
        {
            try
            {
                const int M_TRIM_THRESHOLD = -1,
                    M_MMAP_MAX = -4;
                HeapKept = Native.mallopt(M_MMAP_MAX, 0) == 1 && Native.mallopt(M_TRIM_THRESHOLD, int.MaxValue) == 1;
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            { /* not glibc: its allocator's defaults */
            }
        }
    }

    /// <summary>Whether glibc keeps freed blocks for reuse (see above); false off glibc or with
    /// <c>FACEDISTILL_MALLOC=system</c>.</summary>
    public static bool HeapKept { get; private set; }

    public static void EnsureInitialized()
    {
        if (_done)
            return;
        lock (Gate)
        {
            if (_done)
                return;
            _done = true;
            using var _ = ones(1); // loads libtorch
            try
            {
                var ctx = Native.GlobalContext();
                Native.SetUserEnabledNNPACK(ctx, false);
                if (Environment.GetEnvironmentVariable("FACEDISTILL_MKLDNN") == "0")
                    Native.SetUserEnabledMkldnn(ctx, false);
                MkldnnEnabled = Native.UserEnabledMkldnn(ctx);
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
                Log.Warn($"could not configure libtorch ({e.Message})");
            }
        }
    }

    /// <summary>Switches oneDNN on or off (for benchmarks comparing the two).</summary>
    public static void SetMkldnn(bool enabled)
    {
        EnsureInitialized();
        var ctx = Native.GlobalContext();
        Native.SetUserEnabledMkldnn(ctx, enabled);
        MkldnnEnabled = Native.UserEnabledMkldnn(ctx);
    }

    private static class Native
    {
        private const string Lib = "libtorch_cpu";

        [DllImport(Lib, EntryPoint = "_ZN2at13globalContextEv")]
        public static extern IntPtr GlobalContext();

        [DllImport(Lib, EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
        public static extern void SetUserEnabledMkldnn(IntPtr ctx, [MarshalAs(UnmanagedType.U1)] bool enabled);

        [DllImport(Lib, EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
        public static extern void SetUserEnabledNNPACK(IntPtr ctx, [MarshalAs(UnmanagedType.U1)] bool enabled);

        [DllImport(Lib, EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
        [return: MarshalAs(UnmanagedType.U1)]
        public static extern bool UserEnabledMkldnn(IntPtr ctx);

        [DllImport("libc", CharSet = CharSet.Ansi)]
        public static extern int setenv(string name, string value, int overwrite);

        [DllImport("libc", CharSet = CharSet.Ansi)]
        public static extern IntPtr getenv(string name);

        [DllImport("libc")]
        public static extern int mallopt(int param, int value);
    }
}
