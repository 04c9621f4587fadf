using FaceDistill.Core;
using FaceDistill.Faces.Zoo;
using FaceDistill.Graphs.Onnx;
using static TorchSharp.torch;

namespace FaceDistill.Distillation.Teachers;

/// <summary><c>zoo:faceres</c>, <c>zoo:faceres-deep</c>, <c>zoo:mobileface</c>, <c>zoo:mobilefacenet</c>: an imported
/// face-embedding graph as a teacher. The student's view (<c>[N, 3, S, S]</c> in [−1, 1], a face crop) is mapped to
/// [0, 1] and preprocessed as the net's authors trained it (<see cref="GraphFaceNetSpec"/>). Embedding = the net's
/// descriptor; no logits (logit methods get centroid logits).
/// <para>Through ONNX Runtime by default: the same computation (<see cref="Models.ImportedBackbone"/>'s export, input
/// side S) is exported once per side into the cache (<c>~/.cache/facedistill/onnx/</c>), checked against TorchSharp on
/// the way (within 1e-4), and run by ONNX Runtime, which is faster here (docs/benchmarks.md) and sets what building a
/// teacher-output cache over a face pool costs. An export that fails or
/// does not match falls back to TorchSharp with a notice; <c>FACEDISTILL_TEACHER_ORT=0</c> keeps TorchSharp.</para>
/// </summary>
public sealed class GraphFaceNetTeacher(GraphFaceNet net, string? home = null) : ITeacher
{
    public string Name => $"zoo:{net.Spec.Name}";
    public int InputSize => net.Spec.InputSize;
    public int EmbeddingSize => net.Spec.EmbeddingSize;
    public int Classes => 0;

    /// <summary>Whether teachers of this kind run through ONNX Runtime (part of their fingerprint: outputs differ from
    /// TorchSharp's in the last digits).</summary>
    public static bool UsesOnnxRuntime => Environment.GetEnvironmentVariable("FACEDISTILL_TEACHER_ORT") != "0";

    private readonly Dictionary<int, OnnxTeacher?> _ort = [];

    public static GraphFaceNetTeacher Load(string name, string? home = null) =>
        new(GraphFaceNet.Load(name, home), home);

    public TeacherOutputs Run(Tensor images)
    {
        if (UsesOnnxRuntime && Ort((int)images.shape[2]) is { } ort)
            return ort.Run(images);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var input = net.Input((images + 1) / 2);
        var e = net.Embed(input);
        return new TeacherOutputs(e.MoveToOuterDisposeScope(), null);
    }

    /// <summary>The ONNX Runtime teacher for input side <paramref name="size"/>, exported on first use; null when the
    /// export cannot be used.</summary>
    private OnnxTeacher? Ort(int size)
    {
        if (_ort.TryGetValue(size, out var known))
            return known;
        OnnxTeacher? made = null;
        try
        {
            var path = OnnxFile(size);
            if (!File.Exists(path))
            {
                using var graph = GraphFaceNet.Load(net.Spec.Name, home); // its own copy: the model disposes it
                using var model = new Models.FaceModel(
                    new Models.ImportedBackbone(graph, size, net.Spec.EmbeddingSize),
                    new Models.Heads.SoftmaxHead(net.Spec.EmbeddingSize, 2)
                );
                model.eval();
                var check = Path.Combine(Path.GetDirectoryName(path)!, $".{Guid.NewGuid():N}.onnx");
                var r = Export.OnnxExport.Export(model, Data.FaceTask.Recognition, check);
                if (!(r.MaxDifference < 1e-4))
                {
                    File.Delete(check);
                    throw new FaceDistillException($"differs from TorchSharp by {r.MaxDifference:G3}");
                }
                File.Move(check, path, overwrite: true);
            }
            made = new OnnxTeacher(new OnnxTeacherOptions(path));
        }
        catch (Exception e) when (e is FaceDistillException or IOException or NotSupportedException)
        {
            Log.Warn($"{Name} at {size} px runs in TorchSharp, not ONNX Runtime ({e.Message.Split('\n')[0]})");
        }
        return _ort[size] = made;
    }

    private string OnnxFile(int size)
    {
        var key =
            $"{net.Spec.Name}|{size}|{net.Spec.Preprocessing}|{net.Spec.Output}|{Graphs.Onnx.OnnxGraph.Opset}|"
            + HumanZoo.ModelChecksums(net.Spec.Name, home);
        var hash = TextHash.Sha256Hex(key, 16);
        var dir = Path.Combine(home ?? ModelZoo.Home, "onnx");
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, $"{net.Spec.Name}-{size}-{hash}.onnx");
    }

    public void Dispose()
    {
        foreach (var t in _ort.Values)
            t?.Dispose();
        net.Dispose();
    }
}
