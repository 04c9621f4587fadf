using System.Globalization;
using FaceDistill.Core;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;
using DenseTensorF = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using F = TorchSharp.torch.nn.functional;
using Tensor = TorchSharp.torch.Tensor;

namespace FaceDistill.Distillation.Teachers;

/// <summary>How to feed an ONNX teacher:
/// <c>onnx:model.onnx?size=112&amp;order=rgb&amp;mean=127.5&amp;std=127.5&amp;embedding=out&amp;logits=cls</c>.
/// </summary>
public sealed record OnnxTeacherOptions(
    string Path,
    int? Size = null,
    bool Bgr = false,
    float[]? Mean = null,
    float[]? Std = null,
    string? EmbeddingOutput = null,
    string? LogitsOutput = null
)
{
    /// <summary>Parses the spec after <c>onnx:</c>. Defaults are InsightFace's: RGB, (x − 127.5)/127.5, first output =
    /// embedding; without <c>size</c>, the model's fixed input side (as FaceDistill's exports have), else
    /// 112.</summary>
    public static OnnxTeacherOptions Parse(string spec)
    {
        var q = spec.IndexOf('?');
        var path = q < 0 ? spec : spec[..q];
        var o = new OnnxTeacherOptions(path);
        if (q < 0)
            return o;
        foreach (var kv in spec[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = kv.Split('=', 2);
            if (parts.Length != 2)
                throw new FaceDistillException($"teacher 'onnx:{spec}': '{kv}' is not key=value");
            var (k, v) = (parts[0], parts[1]);
            float[] Floats() =>
                v.Split(',')
                    .Select(x =>
                        float.TryParse(x, NumberStyles.Float, CultureInfo.InvariantCulture, out var f)
                        && float.IsFinite(f)
                        && (k != "std" || f > 0)
                            ? f
                            : throw new FaceDistillException(
                                $"teacher 'onnx:{spec}': {k}={v} is not a list of finite numbers"
                                    + (k == "std" ? " above 0" : "")
                            )
                    )
                    .ToArray();
            o = k switch
            {
                "size" => o with
                {
                    Size =
                        int.TryParse(v, out var s) && s is > 0 and <= 4096
                            ? s
                            : throw new FaceDistillException(
                                $"teacher 'onnx:{spec}': size={v} is not an integer in [1, 4096]"
                            ),
                },
                "order" => o with
                {
                    Bgr = v switch
                    {
                        "rgb" => false,
                        "bgr" => true,
                        _ => throw new FaceDistillException($"teacher 'onnx:{spec}': order must be rgb or bgr"),
                    },
                },
                "mean" => o with { Mean = Floats() },
                "std" => o with { Std = Floats() },
                "embedding" => o with { EmbeddingOutput = v },
                "logits" => o with { LogitsOutput = v },
                _ => throw new FaceDistillException(
                    $"teacher 'onnx:{spec}': unknown option '{k}' (size, order, mean, std, embedding, logits)"
                ),
            };
        }
        return o;
    }
}

/// <summary>Any exported model as teacher, run through ONNX Runtime on the CPU — e.g. an InsightFace ArcFace ONNX. The
/// student's view (<c>[N, 3, S, S]</c> in [−1, 1]) is mapped to 0..255, resized to <c>size</c>, put in the model's
/// channel order and normalised <c>(x − mean)/std</c> per channel; the embedding is the named output (default: the
/// first), logits an optional second named output.</summary>
public sealed class OnnxTeacher : ITeacher
{
    private readonly InferenceSession _session;
    private readonly OnnxTeacherOptions _o;
    private readonly string _input,
        _embedding;

    public string Name => $"onnx:{_o.Path}";
    public int InputSize { get; }
    public int EmbeddingSize { get; }
    public int Classes { get; }

    /// <summary>The file's custom metadata (FaceDistill's exports record their preprocessing and calibration
    /// there).</summary>
    public IReadOnlyDictionary<string, string> Metadata => _session.ModelMetadata.CustomMetadataMap;

    public OnnxTeacher(OnnxTeacherOptions options)
    {
        _o = options;
        if (!File.Exists(options.Path))
            throw FaceDistillException.ForFile(options.Path, "ONNX teacher model not found");
        try
        {
            _session = OnnxSession.Open(options.Path);
        }
        catch (OnnxRuntimeException e)
        {
            throw FaceDistillException.ForFile(options.Path, $"not a loadable ONNX model ({e.Message.Split('\n')[0]})");
        }
        if (_session.InputMetadata.Count != 1)
            throw FaceDistillException.ForFile(
                options.Path,
                $"expected one input, the model has {_session.InputMetadata.Count}"
            );
        _input = _session.InputMetadata.Keys.First();
        var dims = _session.InputMetadata[_input].Dimensions;
        InputSize = options.Size ?? (dims.Length == 4 && dims[2] > 0 && dims[2] == dims[3] ? dims[2] : 112);
        _embedding = options.EmbeddingOutput ?? _session.OutputMetadata.Keys.First();
        int Width(string name) =>
            _session.OutputMetadata.TryGetValue(name, out var m)
                ? m.Dimensions.Length >= 2 && m.Dimensions[^1] > 0
                    ? m.Dimensions[^1]
                    : throw FaceDistillException.ForFile(options.Path, $"output '{name}' has no fixed last dimension")
                : throw FaceDistillException.ForFile(
                    options.Path,
                    $"has no output '{name}' (outputs: {string.Join(", ", _session.OutputMetadata.Keys)})"
                );
        EmbeddingSize = Width(_embedding);
        Classes = options.LogitsOutput is null ? 0 : Width(options.LogitsOutput);
    }

    public TeacherOutputs Run(Tensor images)
    {
        using var _ = no_grad();
        float[] data;
        long n = images.shape[0];
        using (var scope = NewDisposeScope())
        {
            var x =
                images.shape[2] == InputSize && images.shape[3] == InputSize
                    ? images
                    : F.interpolate(
                        images,
                        [InputSize, InputSize],
                        mode: InterpolationMode.Bilinear,
                        align_corners: false
                    );
            x = (x + 1) * 127.5f;
            if (_o.Bgr)
                x = x.flip(1);
            var mean = tensor(_o.Mean ?? [127.5f]).view(1, -1, 1, 1);
            var std = tensor(_o.Std ?? [127.5f]).view(1, -1, 1, 1);
            data = ((x - mean) / std).contiguous().data<float>().ToArray();
        }
        var input = new DenseTensorF(data, [(int)n, 3, InputSize, InputSize]);
        var wanted = _o.LogitsOutput is null ? new[] { _embedding } : new[] { _embedding, _o.LogitsOutput };
        using var results = _session.Run([NamedOnnxValue.CreateFromTensor(_input, input)], wanted);
        Tensor Out(string name, int width)
        {
            var t = results.First(r => r.Name == name).AsEnumerable<float>().ToArray();
            if (t.Length != n * width)
                throw FaceDistillException.ForFile(
                    _o.Path,
                    $"output '{name}' has {t.Length} values for {n} images, expected {n * width}"
                );
            return tensor(t, [n, width]);
        }
        return new TeacherOutputs(
            Out(_embedding, EmbeddingSize),
            _o.LogitsOutput is null ? null : Out(_o.LogitsOutput, Classes)
        );
    }

    public void Dispose() => _session.Dispose();
}
