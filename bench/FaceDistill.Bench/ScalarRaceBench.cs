using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Bench;

/// <summary>
/// The minimal reproduction of libtorch's intermittent "Expected false to be true, but got false." under TorchSharp
/// 0.107 (docs/platform-notes.md): a <c>Scalar</c> made implicitly for one call (<c>x.add(y, alpha: 2.5)</c>, as
/// TorchSharp's own SGD step does for every parameter) is an object with a finalizer whose native handle is passed as a
/// bare IntPtr; once the handle is read the object is unreachable, so a garbage collection started by another thread
/// during the native call can finalize it — the native Scalar is freed while libtorch reads it, and
/// <c>c10::Scalar::toDouble()</c> meets an invalid tag (<c>TORCH_CHECK(false)</c>). The same calls with the Scalar held
/// by the caller until after the call never fail, nor do implicit ones inside a
/// <see cref="FaceDistill.Core.NoGcRegion"/>.
/// Counts per mode, same process, same churn.
/// </summary>
public static class ScalarRaceBench
{
    private const int CallsPerStep = 300; // about the implicit Scalars of one SGD step of a small network

    public static IEnumerable<string> Run(double seconds)
    {
        yield return "| Scalar | steps of 300 calls | failed steps | regions cut short | first error |";
        yield return "|---|---:|---:|---:|---|";
        foreach (var mode in new[] { "implicit", "held", "region" })
        {
            var (steps, failed, cut, first) = Measure(mode, seconds);
            string name = mode switch
            {
                "implicit" => "implicit (`x.add(x, 2.5)`), as TorchSharp's SGD step",
                "held" => "held by the caller until after the call (`using var a = 2.5.ToScalar()`)",
                _ => "implicit, each step inside a `NoGcRegion` (FaceDistill's training steps and batches)",
            };
            yield return $"| {name} | {steps:N0} | {failed} | {cut} | {first ?? "—"} |";
        }
    }

    private static (long Steps, long Failed, long Cut, string? First) Measure(string mode, double seconds)
    {
        using var x = ones(1);
        bool stop = false;
        // another thread allocating as a data loader's worker does (batch arrays), so collections start on their own
        var churn = new Thread(() =>
        {
            var rnd = new Random(1);
            while (!Volatile.Read(ref stop))
            {
                GC.KeepAlive(new float[rnd.Next(10_000, 300_000)]);
                _ = (1.0 + rnd.NextDouble()).ToScalar(); // left to its finalizer, as implicit Scalars are
            }
        });
        churn.Start();
        long steps = 0,
            failed = 0,
            cut0 = FaceDistill.Core.NoGcRegion.CutShort;
        string? first = null;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed.TotalSeconds < seconds)
        {
            try
            {
                using var region = mode == "region" ? FaceDistill.Core.NoGcRegion.Enter() : null;
                for (int i = 0; i < CallsPerStep; i++)
                {
                    if (mode == "held")
                    {
                        using var alpha = 2.5.ToScalar();
                        using var r = x.add(x, alpha);
                    }
                    else
                    {
                        using var r = x.add(x, 2.5);
                    }
                }
            }
            catch (Exception e)
            {
                failed++;
                first ??= e.Message.Split('\n')[0].Split("  (Could")[0].Trim();
            }
            steps++;
        }
        Volatile.Write(ref stop, true);
        churn.Join();
        return (steps, failed, FaceDistill.Core.NoGcRegion.CutShort - cut0, first);
    }
}
