using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Models;
using FaceDistill.Models.Heads;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;
using DenseTensorF = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace FaceDistill.Export;

/// <summary>What an export wrote: the file, its outputs (name and width), and the largest difference between ONNX
/// Runtime and TorchSharp on the check batch, relative to the largest output magnitude.</summary>
public sealed record OnnxExportResult(string Path, IReadOnlyList<(string Name, long Width)> Outputs, double MaxDifference, long Bytes);

/// <summary>
/// Exports a trained <see cref="FaceModel"/> to ONNX for deployment (ONNX Runtime, InsightFace-style pipelines) in
/// inference mode: one input <c>input [N, 3, S, S]</c> (RGB, (x − 127.5)/127.5, as in training), the output
/// <c>embedding [N, D]</c>, and for attribute tasks the head's prediction too — <c>logits [N, C]</c> (expression,
/// gender) or <c>age [N]</c>. Recognition heads are training-only (their classes are the training identities) and are
/// not exported; nor are MultiFace heads. Before the file is written (atomically), ONNX Runtime runs the graph from
/// memory on a seeded random batch and its outputs must match TorchSharp's; the model's preprocessing and origin are
/// stored as metadata (<c>facedistill.*</c>).
/// </summary>
public static class OnnxExport
{
    /// <summary>Relative tolerance of the ONNX Runtime check (float32 graphs with different kernels).</summary>
    public const double Tolerance = 1e-3;

    public static OnnxExportResult Export(FaceModel model, FaceTask task, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var backbone = model.Backbone;
        if (backbone is not IOnnxExportable) throw new FaceDistillException($"ONNX export: backbone {backbone.GetType().Name} has no ONNX mapping");
        int size = backbone.InputSize;
        var wasTraining = model.training;
        model.eval();
        try
        {
            var g = new OnnxGraph();
            g.Input("input", -1, 3, size, size);
            var outputs = new List<(string, long)>();
            string emb = g.Module(backbone, "input");
            g.NodeTo("Identity", [emb], "embedding");
            g.Output("embedding", -1, backbone.EmbeddingSize);
            outputs.Add(("embedding", backbone.EmbeddingSize));
            if (task != FaceTask.Recognition && model.Head is IOnnxExportable head)
            {
                var h = head.ExportOnnx(g, emb);
                if (task == FaceTask.Age)
                {
                    g.NodeTo("Identity", [h], "age");
                    g.Output("age", -1);
                    outputs.Add(("age", 1));
                }
                else
                {
                    long classes;
                    using (NewDisposeScope()) classes = Predict(model, zeros(1, 3, size, size)).head!.shape[1];
                    g.NodeTo("Identity", [h], "logits");
                    g.Output("logits", -1, classes);
                    outputs.Add(("logits", classes));
                }
            }
            var meta = new Dictionary<string, string>
            {
                ["facedistill.task"] = task.ToString().ToLowerInvariant(),
                ["facedistill.backbone"] = backbone.GetType().Name,
                ["facedistill.input_size"] = size.ToString(),
                ["facedistill.embedding_size"] = backbone.EmbeddingSize.ToString(),
                ["facedistill.preprocessing"] = "RGB, NCHW, (pixel - 127.5) / 127.5; faces aligned as in training",
            };
            foreach (var (k, v) in metadata ?? new Dictionary<string, string>()) meta[k] = v;
            var bytes = g.ToModel(backbone.GetType().Name, meta);
            double diff = Check(model, task, bytes, size, outputs);
            if (!(diff <= Tolerance))
                throw FaceDistillException.ForFile(path, $"the exported graph disagrees with the model (relative difference {diff:G3} > {Tolerance}); not written");
            AtomicFile.WriteAllBytes(path, bytes);
            return new OnnxExportResult(path, outputs, diff, bytes.LongLength);
        }
        finally
        {
            if (wasTraining) model.train();
        }
    }

    private static (Tensor embedding, Tensor? head) Predict(FaceModel model, Tensor x)
    {
        using var _ = no_grad();
        var e = model.Backbone.call(x);
        return (e, model.Head.call(e, null));
    }

    /// <summary>Runs the serialised graph in ONNX Runtime and TorchSharp on the same seeded batch; the largest absolute
    /// difference over all outputs, divided by the largest magnitude (at least 1).</summary>
    public static double Check(FaceModel model, FaceTask task, byte[] onnx, int size, IReadOnlyList<(string Name, long Width)> outputs)
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(20251201);
        var x = rand([3, 3, size, size], generator: gen) * 2 - 1;
        var (emb, head) = Predict(model, x);
        using var session = new InferenceSession(onnx);
        var input = new DenseTensorF(x.contiguous().data<float>().ToArray(), [3, 3, size, size]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        double worst = 0;
        foreach (var (name, _) in outputs)
        {
            var reference = (name == "embedding" ? emb : head!).contiguous().data<float>().ToArray();
            var got = results.First(r => r.Name == name).AsEnumerable<float>().ToArray();
            if (got.Length != reference.Length) return double.PositiveInfinity;
            double scale = Math.Max(1, reference.Max(v => Math.Abs((double)v)));
            for (int i = 0; i < got.Length; i++) worst = Math.Max(worst, Math.Abs(got[i] - reference[i]) / scale);
        }
        return worst;
    }
}
