using System.Globalization;
using System.Text.Json;
using FaceDistill.Core;

namespace FaceDistill.Training;

/// <summary>
/// Which of libtorch's two CPU convolution paths a run trains with: oneDNN, or libtorch's own kernels (im2col + GEMM,
/// its depthwise kernel) — and on each in which memory layout, NCHW or channels-last (<see
/// cref="Models.MemoryFormat"/>): four candidates. None wins everywhere — the winner depends on the host, the backbone
/// and the input size (docs/benchmarks.md, <c>bench -- --throughput</c>, <c>--channels-last</c>) — and libtorch's
/// switch is process-wide and is
/// read again by each convolution's backward, so the choice is made per run, not per layer: a short probe at start-up
/// times the run's own train step (model, input size, batch) on each candidate and keeps the fastest. The result is
/// cached on disk per model shape, thread count and CPU, so every later run of the same shape on the machine takes the
/// same path without probing (results are bit-identical only on one path), and it is recorded in each checkpoint, so
/// a resumed run takes the path it started on. <c>FACEDISTILL_MKLDNN=0|1</c> forces the path (NCHW unless
/// <c>FACEDISTILL_CHANNELS_LAST=1</c>).
/// </summary>
public static class ConvolutionPath
{
    /// <summary>A probe's outcome: the path and layout taken and the step times they were chosen from (null where
    /// not measured).</summary>
    public sealed record Choice(
        bool OneDnn,
        double? OneDnnSeconds,
        double? NativeSeconds,
        string Source,
        bool ChannelsLast = false,
        double? ChannelsLastSeconds = null,
        double? NativeChannelsLastSeconds = null
    );

    public static string CacheFile => Path.Combine(CacheHome.Path, "probes", "convolution-path.json");

    /// <summary>The path for a model shape <paramref name="key"/>: forced by the environment, else the cached probe,
    /// else a fresh probe — <paramref name="stepSeconds"/>(oneDnn, channelsLast) runs the run's train step and
    /// returns its time (called twice per candidate — oneDNN NCHW, oneDNN channels-last, native NCHW, native
    /// channels-last; the faster of each pair counts).
    /// <para>A probe during which other processes kept more than <see cref="BusyShare"/> of the CPU busy (<see
    /// cref="CpuLoad"/>; <paramref name="otherLoad"/> replaces that measurement in tests) is used for this run but not
    /// cached: its times measure the contention, not the path.</para></summary>
    public static Choice Choose(
        string key,
        Func<bool, bool, double> stepSeconds,
        string? cacheFile = null,
        Func<Func<double>>? otherLoad = null
    )
    {
        var forced = Environment.GetEnvironmentVariable("FACEDISTILL_MKLDNN");
        if (forced is "0" or "1")
            return new Choice(
                forced == "1",
                null,
                null,
                "FACEDISTILL_MKLDNN",
                ChannelsLast: Environment.GetEnvironmentVariable("FACEDISTILL_CHANNELS_LAST") == "1"
            );
        var file = cacheFile ?? CacheFile;
        var fullKey =
            $"{key}|threads={TorchSharp.torch.get_num_threads()}|cpu={Cpu()}|layouts=nchw,nhwc|native=nchw,nhwc";
        lock (Gate) // one probe per shape and process: runs of one process never take different paths
        {
            var cache = Read(file);
            if (cache.TryGetValue(fullKey, out var known))
                return known with { Source = $"cached probe ({file})" };
            return Probe(file, cache, fullKey, stepSeconds, otherLoad ?? CpuLoad.Start);
        }
    }

    /// <summary>The share of the CPU (0–1) other processes may use during a probe whose choice is cached.</summary>
    public const double BusyShare = 0.25;

    private static readonly object Gate = new();

    private static Choice Probe(
        string file,
        Dictionary<string, Choice> cache,
        string fullKey,
        Func<bool, bool, double> stepSeconds,
        Func<Func<double>> otherLoad
    )
    {
        bool was = TorchRuntime.MkldnnEnabled;
        try
        {
            var others = otherLoad();
            double on = Math.Min(stepSeconds(true, false), stepSeconds(true, false));
            double last = Math.Min(stepSeconds(true, true), stepSeconds(true, true));
            double off = Math.Min(stepSeconds(false, false), stepSeconds(false, false));
            double offLast = Math.Min(stepSeconds(false, true), stepSeconds(false, true));
            double best = new[] { on, last, off, offLast }.Min();
            bool oneDnn = best == on || best == last;
            var choice = new Choice(oneDnn, on, off, "probe", best == last || best == offLast, last, offLast);
            double busy = others();
            if (busy > BusyShare)
            {
                string pct = (100 * busy).ToString("F0", CultureInfo.InvariantCulture);
                Log.Warn(
                    $"other processes kept {pct} % of the CPU busy during the convolution probe: its choice is "
                        + "used for this run only, not cached (the next run of this shape probes again)"
                );
                return choice with { Source = $"probe beside other work ({pct} % of the CPU), not cached" };
            }
            cache[fullKey] = choice;
            try
            {
                AtomicFile.WriteAllText(file, JsonSerializer.Serialize(cache, Json));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.Warn($"the convolution probe could not be cached ({file}: {e.Message.Split('\n')[0]})");
            }
            return choice;
        }
        finally
        {
            TorchRuntime.SetMkldnn(was);
        }
    }

    /// <summary>A line for the log: the path, the layout and, for a probe, its step times.</summary>
    public static string Describe(Choice c)
    {
        string S(double v) => v.ToString("F2", CultureInfo.InvariantCulture);
        var times =
            c.OneDnnSeconds is { } on && c.NativeSeconds is { } off
                ? $": a step {S(on)} s with oneDNN"
                    + (c.ChannelsLastSeconds is { } cl ? $", {S(cl)} s with oneDNN channels-last" : "")
                    + $", {S(off)} s without"
                    + (c.NativeChannelsLastSeconds is { } ncl ? $", {S(ncl)} s without, channels-last" : "")
                : "";
        return $"convolutions: {(c.OneDnn ? "oneDNN" : "libtorch's own kernels")}"
            + $"{(c.ChannelsLast ? ", channels-last" : "")} ({c.Source}{times})";
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    private static Dictionary<string, Choice> Read(string file)
    {
        try
        {
            return File.Exists(file)
                ? JsonSerializer.Deserialize<Dictionary<string, Choice>>(File.ReadAllText(file)) ?? []
                : [];
        }
        catch (JsonException)
        {
            return []; // a damaged cache is probed again and rewritten
        }
    }

    private static string? _cpu;

    private static string Cpu() =>
        _cpu ??= File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo")
                .FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))
                ?.Split(':', 2)[1]
                .Trim()
                ?? "unknown"
            : System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
}
