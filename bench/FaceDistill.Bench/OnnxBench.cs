using System.Diagnostics;
using System.Globalization;
using FaceDistill.Data;
using FaceDistill.Export;
using FaceDistill.Graphs.Onnx;
using FaceDistill.Models;
using FaceDistill.Models.Heads;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;
using DenseTensorF = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace FaceDistill.Bench;

/// <summary>
/// Inference of exported models: the same weights run by TorchSharp (eval, no_grad) and by ONNX Runtime (CPU, as many
/// intra-op threads as libtorch), batch 1 and batch 32, median of repeated runs in the same process. The ratio is what
/// a deployment gains or loses by exporting. <c>--onnx</c> runs only this section.
/// </summary>
public static class OnnxBench
{
    private static string F(double v, string f = "F1") => v.ToString(f, CultureInfo.InvariantCulture);

    private static double Median(Action run, int reps)
    {
        run();
        run(); // warm-up (allocations, oneDNN primitive caches)
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
        yield return "## Exported models: ONNX Runtime against TorchSharp";
        yield return "";
        yield return $"`facedistill export` graphs (opset {OnnxGraph.Opset}) run by ONNX Runtime 1.31 on the CPU "
            + $"({threads} intra-op threads) against the same weights in "
            + $"TorchSharp (eval, no_grad, {threads} threads), median of {(quick ? 5 : 15)} runs after two warm-up "
            + $"runs; random weights (speed does not depend on their values).";
        yield return "";
        yield return "| model (input) | batch | TorchSharp ms | ONNX Runtime ms | ONNX Runtime speed-up | file MB |";
        yield return "|---|---:|---:|---:|---:|---:|";
        var dir = Path.Combine(Path.GetTempPath(), $"fd-onnx-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            foreach (
                var (name, backbone, size, width, emb) in new[]
                {
                    ("MobileFaceNet (112)", "mobilefacenet", 112, 1.0, 128),
                    ("IResNet-18 (112)", "iresnet18", 112, 1.0, 512),
                    ("IResNet-18 ¼ width (64), the recognition students", "iresnet18", 64, 0.25, 128),
                    ("faceres, imported from tfjs (112), the strong teacher", "zoo:faceres", 112, 1.0, 1024),
                }.Where(m => !m.Item2.StartsWith("zoo:") || FaceDistill.Faces.Zoo.HumanZoo.Verify().Count == 0)
            )
            {
                manual_seed(1);
                using var model = new FaceModel(Backbones.Create(backbone, size, emb, width), new SoftmaxHead(emb, 2));
                model.eval();
                var path = Path.Combine(dir, backbone + size + ".onnx");
                var result = OnnxExport.Export(model, FaceTask.Recognition, path);
                using var options = new SessionOptions
                {
                    IntraOpNumThreads = threads,
                    GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                };
                using var session = new InferenceSession(path, options);
                foreach (int batch in new[] { 1, 32 })
                {
                    using var x = rand(batch, 3, size, size) * 2 - 1;
                    var data = x.contiguous().data<float>().ToArray();
                    var input = new[]
                    {
                        NamedOnnxValue.CreateFromTensor("input", new DenseTensorF(data, [batch, 3, size, size])),
                    };
                    int reps = quick ? 5 : 15;
                    double torchMs = Median(
                        () =>
                        {
                            using var _ = no_grad();
                            model.Embed(x).Dispose();
                        },
                        reps
                    );
                    double ortMs = Median(
                        () =>
                        {
                            using var r = session.Run(input);
                        },
                        reps
                    );
                    yield return $"| {name} | {batch} | {F(torchMs)} | {F(ortMs)} | {F(torchMs / ortMs, "F2")}× | "
                        + $"{F(result.Bytes / 1e6)} |";
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        yield return "";
    }
}
