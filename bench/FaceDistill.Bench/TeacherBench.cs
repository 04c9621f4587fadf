using System.Diagnostics;
using System.Globalization;
using FaceDistill.Faces.Zoo;
using static TorchSharp.torch;

namespace FaceDistill.Bench;

/// <summary>
/// The imported faceres teacher (human's tfjs graph) forward at 224 px: node by node (every batch-norm multiply/add and
/// every ReLU6 minimum/maximum its own pass over memory) against the fused convolution chains
/// (<see cref="TfjsConvChain"/>), and with oneDNN off, median of repeated runs in the same process. Needs the models
/// installed (<c>facedistill models install</c>). <c>--teachers</c> runs only this section.
/// </summary>
public static class TeacherBench
{
    private static string F(double v, string f = "F1") => v.ToString(f, CultureInfo.InvariantCulture);

    private static double Median(Action run, int reps)
    {
        run();
        var t = new List<double>();
        for (int i = 0; i < reps; i++)
        {
            var sw = Stopwatch.StartNew();
            run();
            t.Add(sw.Elapsed.TotalMilliseconds);
        }
        t.Sort();
        return t[t.Count / 2];
    }

    public static IEnumerable<string> Run(int threads, bool quick)
    {
        using var net = FaceRes.Load();
        int batch = quick ? 8 : 32,
            reps = quick ? 3 : 7;
        yield return "## The faceres teacher: fused convolution chains";
        yield return "";
        yield return $"faceres ({net.Module.FusedChains} convolutions each fused with the affine map and clip after "
            + $"it) forward on a batch of {batch} at 224 px, {threads} threads, eval + no_grad, median of {reps} runs "
            + "after a warm-up; outputs of the two paths compared on the same input.";
        yield return "";
        yield return "| path | ms / batch | faces / s | speed-up vs node by node | max rel. diff of the descriptor |";
        yield return "|---|---:|---:|---:|---:|";
        manual_seed(1);
        using var x = rand(batch, 3, FaceRes.InputSize, FaceRes.InputSize) * 255f;
        double baseline = 0;
        Tensor? reference = null;
        foreach (
            var (label, fuse, mkldnn) in new[]
            {
                ("node by node", false, true),
                ("fused chains", true, true),
                ("fused chains, oneDNN off", true, false),
            }
        )
        {
            Core.TorchRuntime.SetMkldnn(mkldnn);
            net.Module.FuseConvChains = fuse;
            Tensor? last = null;
            double ms = Median(
                () =>
                {
                    last?.Dispose();
                    using var o = net.Forward(x);
                    last = o.Descriptor.clone();
                },
                reps
            );
            double diff = 0;
            if (reference is null)
            {
                reference = last;
                baseline = ms;
            }
            else
            {
                using var d = (last! - reference).abs().max() / reference.abs().max();
                diff = d.item<float>();
                last!.Dispose();
            }
            yield return $"| {label} | {F(ms, "F0")} | {F(batch * 1000 / ms)} | {F(baseline / ms, "F2")}× | "
                + $"{diff.ToString("0.0e0", CultureInfo.InvariantCulture)} |";
        }
        reference?.Dispose();
        Core.TorchRuntime.SetMkldnn(true);
        net.Module.FuseConvChains = true;
    }
}
