using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Graphs.Onnx;
using FaceDistill.Models;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;
using DenseTensorF = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace FaceDistill.Export;

/// <summary>What an export wrote: the file, its outputs (name and width), the largest difference between ONNX
/// Runtime and TorchSharp on the check batch, relative to the largest output magnitude, and the input's side.</summary>
public sealed record OnnxExportResult(
    string Path,
    IReadOnlyList<(string Name, long Width)> Outputs,
    double MaxDifference,
    long Bytes,
    int InputSize
);

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

    public static OnnxExportResult Export(
        FaceModel model,
        FaceTask task,
        string path,
        IReadOnlyDictionary<string, string>? metadata = null
    )
    {
        var backbone = model.Backbone;
        if (backbone is not IOnnxExportable)
            throw FaceDistillException.ForFile(
                path,
                $"not written: backbone {backbone.GetType().Name} has no ONNX mapping"
            );
        int size = backbone.InputSize;
        var wasTraining = model.training;
        model.eval();
        using var scope = NewDisposeScope();
        try
        {
            // TorchSharp's outputs on a seeded batch: the reference the exported graph must reproduce, and the widths
            // of its outputs
            var x = rand([3, 3, size, size], generator: new Generator(20251201)) * 2 - 1;
            Tensor emb,
                head;
            using (no_grad())
            {
                emb = model.Backbone.call(x);
                head = model.Head.call(emb, null);
            }
            var g = new OnnxGraph();
            g.Input("input", -1, 3, size, size);
            var outputs = new List<(string Name, long Width)>();
            var expected = new Dictionary<string, Tensor>();
            void Output(string name, string value, Tensor reference, params long[] shape)
            {
                g.NodeTo("Identity", [value], name);
                g.Output(name, shape);
                outputs.Add((name, shape.Length > 1 ? shape[1] : 1));
                expected[name] = reference;
            }
            string e = g.Module(backbone, "input");
            Output("embedding", e, emb, -1, backbone.EmbeddingSize);
            if (task != FaceTask.Recognition && model.Head is IOnnxExportable exportable)
            {
                var h = exportable.ExportOnnx(g, e);
                if (task == FaceTask.Age)
                    Output("age", h, head, -1);
                else
                    Output("logits", h, head, -1, head.shape[1]);
            }
            var meta = new Dictionary<string, string>
            {
                ["facedistill.task"] = task.ToString().ToLowerInvariant(),
                ["facedistill.backbone"] = backbone.GetType().Name,
                ["facedistill.input_size"] = size.ToString(),
                ["facedistill.embedding_size"] = backbone.EmbeddingSize.ToString(),
            };
            var (bytes, diff) = WriteChecked(g, backbone.GetType().Name, meta, metadata, x, expected, path);
            return new OnnxExportResult(path, outputs, diff, bytes.LongLength, size);
        }
        catch (Exception e) when (e is NotSupportedException or OnnxRuntimeException)
        {
            throw FaceDistillException.ForFile(path, $"not written: {e.Message.Split('\n')[0]}");
        }
        finally
        {
            if (wasTraining)
                model.train();
        }
    }

    /// <summary>Serialises the graph with its metadata (the preprocessing, then <paramref name="own"/>, then the
    /// caller's <paramref name="extra"/>), runs it in ONNX Runtime on <paramref name="x"/> (<see cref="Check"/>) and
    /// writes it atomically only when it agrees with <paramref name="expected"/> within
    /// <see cref="Tolerance"/>.</summary>
    internal static (byte[] Bytes, double Difference) WriteChecked(
        OnnxGraph g,
        string graphName,
        IReadOnlyDictionary<string, string> own,
        IReadOnlyDictionary<string, string>? extra,
        Tensor x,
        IReadOnlyDictionary<string, Tensor> expected,
        string path
    )
    {
        var meta = new Dictionary<string, string>
        {
            ["facedistill.preprocessing"] = "RGB, NCHW, (pixel - 127.5) / 127.5; faces aligned as in training",
        };
        foreach (var (k, v) in own.Concat(extra ?? new Dictionary<string, string>()))
            meta[k] = v;
        var bytes = g.ToModel(graphName, meta);
        double diff = Check(bytes, x, expected);
        if (!(diff <= Tolerance))
            throw FaceDistillException.ForFile(
                path,
                $"the exported graph disagrees with the model (relative difference {diff:G3} > {Tolerance}); not "
                    + $"written"
            );
        AtomicFile.WriteAllBytes(path, bytes);
        return (bytes, diff);
    }

    /// <summary>Runs the serialised graph in ONNX Runtime on <paramref name="x"/> and compares each named output with
    /// its expected tensor: the largest absolute difference, divided by the output's largest magnitude (at least
    /// 1).</summary>
    public static double Check(byte[] onnx, Tensor x, IReadOnlyDictionary<string, Tensor> expected)
    {
        using var session = new InferenceSession(onnx);
        var input = new DenseTensorF(x.contiguous().data<float>().ToArray(), x.shape.Select(d => (int)d).ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        double worst = 0;
        foreach (var (name, tensor) in expected)
        {
            var reference = tensor.contiguous().data<float>().ToArray();
            var got = results.First(r => r.Name == name).AsEnumerable<float>().ToArray();
            if (got.Length != reference.Length)
                return double.PositiveInfinity;
            double scale = Math.Max(1, reference.Max(v => Math.Abs((double)v)));
            for (int i = 0; i < got.Length; i++)
                worst = Math.Max(worst, Math.Abs(got[i] - reference[i]) / scale);
        }
        return worst;
    }
}
