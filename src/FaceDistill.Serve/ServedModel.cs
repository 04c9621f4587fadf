using System.Globalization;
using FaceDistill.Core;
using FaceDistill.Distillation.Teachers;
using FaceDistill.Evaluation;
using FaceDistill.Runs;
using static TorchSharp.torch;

namespace FaceDistill.Serve;

/// <summary>
/// The network <c>serve</c> answers with, and how it wants its faces: a FaceDistill run (its latest checkpoint, its
/// <c>eval.centerCrop</c>, its <c>calibration.json</c>) or an exported ONNX file (the same facts from its
/// <c>facedistill.*</c> metadata). Faces are ArcFace-aligned 112 crops resized to the model's input side, RGB,
/// (x − 127.5)/127.5 — what FaceDistill trains on. Not thread-safe: the batcher calls it from one thread.
/// </summary>
public sealed class ServedModel : IDisposable
{
    private readonly TrainedRun? _run;
    private readonly OnnxTeacher? _onnx;

    public string Name { get; }
    public int InputSize { get; }
    public int EmbeddingSize { get; }
    public double CenterCrop { get; }
    public Calibration? Calibration { get; }

    private ServedModel(string name, int inputSize, int embeddingSize, double centerCrop, Calibration? calibration)
    {
        Name = name;
        InputSize = inputSize;
        EmbeddingSize = embeddingSize;
        CenterCrop = centerCrop;
        Calibration = calibration;
    }

    private ServedModel(TrainedRun run, string name)
        : this(
            name,
            run.Model.Backbone.InputSize,
            run.Model.Backbone.EmbeddingSize,
            run.Config.Eval.CenterCrop,
            Calibration.Load(run.Directory)
        )
    {
        _run = run;
        run.Model.eval();
    }

    private ServedModel(OnnxTeacher onnx, string name, double centerCrop, Calibration? calibration)
        : this(name, onnx.InputSize, onnx.EmbeddingSize, centerCrop, calibration)
    {
        _onnx = onnx;
    }

    public static ServedModel Load(string path)
    {
        if (Directory.Exists(path))
            return new ServedModel(TrainedRun.Load(path), Path.GetFileName(Path.GetFullPath(path).TrimEnd('/')));
        if (!File.Exists(path))
            throw FaceDistillException.ForFile(path, "model not found (give a run directory or an .onnx file)");
        if (!path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            throw FaceDistillException.ForFile(path, "not a run directory or an .onnx file");
        var onnx = new OnnxTeacher(new OnnxTeacherOptions(path));
        try
        {
            var m = onnx.Metadata;
            double crop = 1;
            if (
                m.TryGetValue("facedistill.center_crop", out var c)
                && !(
                    double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out crop)
                    && crop > 0
                    && crop <= 1
                )
            )
                throw FaceDistillException.ForFile(path, $"metadata facedistill.center_crop={c} is not in (0, 1]");
            return new ServedModel(onnx, Path.GetFileName(path), crop, Calibration.FromMetadata(m, path));
        }
        catch
        {
            onnx.Dispose();
            throw;
        }
    }

    /// <summary>L2-normalised embeddings of <paramref name="count"/> faces laid out as <c>[count, 3, S, S]</c> in
    /// [−1, 1].</summary>
    public float[][] Embed(float[] pixels, int count)
    {
        if (count == 0)
            return [];
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var x = tensor(pixels, [count, 3, InputSize, InputSize]);
        Tensor e;
        if (_run is not null)
            e = NativeRetry.Run(() => _run.Model.Backbone.call(x));
        else
        {
            var o = _onnx!.Run(x);
            o.Logits?.Dispose();
            e = o.Embedding!;
        }
        var flat = nn.functional.normalize(e, dim: 1).contiguous().data<float>().ToArray();
        return Enumerable
            .Range(0, count)
            .Select(i => flat.AsSpan(i * EmbeddingSize, EmbeddingSize).ToArray())
            .ToArray();
    }

    public void Dispose()
    {
        _run?.Dispose();
        _onnx?.Dispose();
    }
}
