using System.Runtime.InteropServices;

namespace FaceDistill.Core;

/// <summary>
/// libtorch 2.10 on this CPU occasionally fails an internal check ("Expected false to be true") in an op not yet
/// identified (docs/platform-notes.md). Inference is deterministic, so repeating the call gives the intended result;
/// long evaluations wrap each batch in <see cref="Run{T}"/> instead of losing half an hour of work.
/// </summary>
public static class NativeRetry
{
    public static int Retries { get; private set; }

    public static T Run<T>(Func<T> action, int attempts = 3)
    {
        for (int i = 1; ; i++)
        {
            try
            {
                using var quiet = NoGcRegion.Enter(); // no finalizer frees a Scalar the batch still reads
                return action();
            }
            catch (ExternalException) when (i < attempts)
            {
                Retries++;
            }
        }
    }

    /// <summary>True for libtorch's intermittent internal check (an <see cref="ExternalException"/> whose message
    /// reads "Expected false to be true"): code that turns native errors into one-line user errors lets this one
    /// through, so <see cref="Run{T}"/> repeats the call.</summary>
    public static bool IsTransient(Exception e) =>
        e is ExternalException && e.Message.Contains("Expected false to be true", StringComparison.Ordinal);
}
