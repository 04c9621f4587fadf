using System.Runtime;

namespace FaceDistill.Core;

/// <summary>
/// A span of native work during which the .NET garbage collector does not run (<see
/// cref="GC.TryStartNoGCRegion(long)"/>), so no finalizer can free a native object the work still reads.
/// TorchSharp 0.107 turns every number passed to an op (<c>x.add(y, alpha: 0.9)</c>, <c>x * 0.5</c>, its own SGD step
/// for each parameter) into a <c>Scalar</c> with a finalizer and passes only its raw handle: a collection started by
/// another thread (the data loader's workers) during the call can finalize it and free the native Scalar while libtorch
/// reads it — libtorch's intermittent "Expected false to be true, but got false." (docs/platform-notes.md;
/// reproduced by <c>bench -- --scalar-race</c>). Inside a region there is no collection, hence no such finalizer,
/// until the region ends or its allocation budget is spent. Starting one costs one blocking collection, so regions
/// wrap whole steps and batches, not single ops. Nested and concurrent regions share one (counted); where the runtime
/// refuses a region the work runs unprotected, as before (the retries remain).
/// </summary>
public sealed class NoGcRegion : IDisposable
{
    /// <summary>Managed bytes the process may allocate inside a region before the collector runs anyway.</summary>
    public const long Budget = 192L << 20;

    private static readonly object Gate = new();
    private static int _depth;
    private static bool _active;

    /// <summary>Regions that ran to their end without a collection, and those the budget or the runtime cut short:
    /// the figures <c>bench -- --scalar-race</c> and the tests read.</summary>
    public static long Completed { get; private set; }
    public static long CutShort { get; private set; }

    private bool _disposed;

    private NoGcRegion() { }

    /// <summary><c>FACEDISTILL_NOGC=0</c> switches regions off (for measurements with and without them).</summary>
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("FACEDISTILL_NOGC") != "0";

    public static NoGcRegion Enter()
    {
        if (!Enabled)
            return new NoGcRegion { _disposed = true };
        lock (Gate)
        {
            if (_depth++ == 0)
            {
                try
                {
                    _active = GCSettings.LatencyMode != GCLatencyMode.NoGCRegion && GC.TryStartNoGCRegion(Budget);
                }
                catch (Exception e) when (e is InvalidOperationException or ArgumentOutOfRangeException)
                {
                    _active = false;
                }
            }
        }
        return new NoGcRegion();
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        lock (Gate)
        {
            if (--_depth > 0 || !_active)
                return;
            _active = false;
            if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
            {
                try
                {
                    GC.EndNoGCRegion();
                    Completed++;
                    return;
                }
                catch (InvalidOperationException)
                { /* the budget was spent: a collection already ran */
                }
            }
            CutShort++;
        }
    }
}
