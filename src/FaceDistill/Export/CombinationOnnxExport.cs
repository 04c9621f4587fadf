using FaceDistill.Core;
using FaceDistill.Graphs.Onnx;
using FaceDistill.Models;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Export;

/// <summary>
/// Georgescu et al. (2022)'s combination of recognition students as one ONNX file, so a user deploys it as one model:
/// the input <c>input [N, 3, S, S]</c> (S the largest of the students' input sizes) is resized in the graph to each
/// student's input (bilinear with half-pixel centres, ONNX <c>Resize</c> linear/half_pixel: the resampling the
/// evaluation applies to a 112-px crop), each student's embedding is L2-normalised, and the output is
/// <para><c>e = [ê₁; …; ê_k] / √k</c>, with <c>ê_i = f_i(R_i(x)) / ‖f_i(R_i(x))‖₂</c>,</para>
/// <para>so <c>cos(e_a, e_b) = (1/k) Σ_i cos(ê_{i,a}, ê_{i,b})</c>: exactly the score of the combination's evaluation
/// (<see cref="Evaluation.EmbeddingCombination.Verify"/>, the unit embeddings concatenated). Checked in ONNX Runtime
/// against TorchSharp before the file is written (atomically), as <see cref="OnnxExport"/>. Attribute-task
/// combinations end in a linear model fitted on the training images and are not exported.</para>
/// </summary>
public static class CombinationOnnxExport
{
    public static OnnxExportResult Export(
        IReadOnlyList<FaceModel> models,
        string path,
        IReadOnlyDictionary<string, string>? metadata = null
    )
    {
        if (models.Count < 2)
            throw new ArgumentException("a combination needs at least two models", nameof(models));
        foreach (var m in models)
            if (m.Backbone is not IOnnxExportable)
                throw FaceDistillException.ForFile(
                    path,
                    $"not written: backbone {m.Backbone.GetType().Name} has no ONNX mapping"
                );
        int size = models.Max(m => m.Backbone.InputSize);
        var wasTraining = models.Select(m => m.training).ToArray();
        foreach (var m in models)
            m.eval();
        using var scope = NewDisposeScope();
        try
        {
            var x = rand([3, 3, size, size], generator: new Generator(20251201)) * 2 - 1;
            Tensor expected;
            using (no_grad())
                expected = Combine(models, x);
            var g = new OnnxGraph();
            g.Input("input", -1, 3, size, size);
            var batchAndChannels = g.Node(
                "Slice",
                [g.Node("Shape", ["input"]), g.ConstantInt64("start", [0]), g.ConstantInt64("end", [2])]
            );
            var parts = new List<string>();
            foreach (var m in models)
            {
                int s = m.Backbone.InputSize;
                // Resize to [N, 3, s, s], N read from the input (the batch dimension is dynamic)
                var input =
                    s == size
                        ? "input"
                        : g.Node(
                            "Resize",
                            [
                                "input",
                                "",
                                "",
                                g.Node("Concat", [batchAndChannels, g.ConstantInt64("hw", [s, s])], ("axis", 0L)),
                            ],
                            ("mode", "linear"),
                            ("coordinate_transformation_mode", "half_pixel")
                        );
                var e = g.Module(m.Backbone, input);
                parts.Add(g.Node("LpNormalization", [e], ("axis", 1L), ("p", 2L)));
            }
            var joined = g.Node("Concat", parts.ToArray(), ("axis", 1L));
            var scale = g.Constant("inv_sqrt_k", [(float)(1 / Math.Sqrt(models.Count))], []);
            long width = models.Sum(m => (long)m.Backbone.EmbeddingSize);
            g.NodeTo("Mul", [joined, scale], "embedding");
            g.Output("embedding", -1, width);
            var own = new Dictionary<string, string>
            {
                ["facedistill.task"] = "recognition",
                ["facedistill.backbone"] = string.Join("+", models.Select(m => m.Backbone.GetType().Name)),
                ["facedistill.input_size"] = size.ToString(),
                ["facedistill.embedding_size"] = width.ToString(),
                ["facedistill.combination"] = string.Join(
                    ",",
                    models.Select(m => $"{m.Backbone.InputSize}px:{m.Backbone.EmbeddingSize}d")
                ),
            };
            var expectedOutputs = new Dictionary<string, Tensor> { ["embedding"] = expected };
            var (bytes, diff) = OnnxExport.WriteChecked(g, "combination", own, metadata, x, expectedOutputs, path);
            return new OnnxExportResult(path, [("embedding", width)], diff, bytes.LongLength, size);
        }
        catch (Exception e) when (e is NotSupportedException or OnnxRuntimeException)
        {
            throw FaceDistillException.ForFile(path, $"not written: {e.Message.Split('\n')[0]}");
        }
        finally
        {
            for (int i = 0; i < models.Count; i++)
                if (wasTraining[i])
                    models[i].train();
        }
    }

    /// <summary>The combined embedding in TorchSharp (the class comment's equation): the reference the graph must
    /// reproduce.</summary>
    public static Tensor Combine(IReadOnlyList<FaceModel> models, Tensor x)
    {
        int size = (int)x.shape[3];
        var parts = models
            .Select(m =>
            {
                int s = m.Backbone.InputSize;
                var input =
                    s == size
                        ? x
                        : nn.functional.interpolate(
                            x,
                            size: [s, s],
                            mode: InterpolationMode.Bilinear,
                            align_corners: false
                        );
                return nn.functional.normalize(m.Backbone.call(input), dim: 1);
            })
            .ToArray();
        return cat(parts, 1) / Math.Sqrt(models.Count);
    }
}
