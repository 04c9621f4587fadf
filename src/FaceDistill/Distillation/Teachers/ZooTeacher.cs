using FaceDistill.Core;
using FaceDistill.Faces.Zoo;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FaceDistill.Distillation.Teachers;

/// <summary>A face-api net as teacher (<c>zoo:recognition</c>, <c>zoo:expression</c>, <c>zoo:agegender</c>). The
/// student's view (<c>[N, 3, S, S]</c> in [−1, 1], already a face crop) is mapped back to 0..255, resized bilinearly to
/// the net's input and normalised as face-api does (<c>(x − mean)/255</c>).
/// <list type="bullet">
/// <item>recognition: embedding = the 128-d descriptor; no logits.</item>
/// <item>expression: embedding = the 256-d pooled features; logits = the 7 expression logits in FaceDistill's
/// class order (<see cref="Data.Expression"/>, FER2013's: angry, disgust, fear, happy, neutral, sad, surprise), mapped
/// from face-api's (neutral, happy, sad, angry, fearful, disgusted, surprised) so that KD compares like
/// classes.</item>
/// <item>agegender: embedding = the 512-d pooled features; logits = [age, gender logit male, gender logit
/// female].</item>
/// </list>
/// </summary>
public sealed class ZooTeacher : ITeacher
{
    private readonly ZooNet _net;
    private readonly string _kind;

    public string Name => $"zoo:{_kind}";
    public int InputSize { get; }
    public int EmbeddingSize { get; }
    public int Classes { get; }

    private ZooTeacher(string kind, ZooNet net, int inputSize, int embedding, int classes)
    {
        _kind = kind;
        _net = net;
        InputSize = inputSize;
        EmbeddingSize = embedding;
        Classes = classes;
    }

    public static ZooTeacher Load(string kind, string? home = null) =>
        kind switch
        {
            "recognition" => new(
                kind,
                FaceRecognitionNet.Load(home),
                FaceRecognitionNet.InputSize,
                FaceRecognitionNet.DescriptorSize,
                0
            ),
            "expression" => new(
                kind,
                FaceExpressionNet.Load(home),
                FaceExpressionNet.InputSize,
                256,
                FaceExpressionNet.Labels.Length
            ),
            "agegender" => new(kind, AgeGenderNet.Load(home), AgeGenderNet.InputSize, 512, 3),
            _ => throw new FaceDistillException(
                $"teacher 'zoo:{kind}': unknown zoo net (recognition, expression, agegender)"
            ),
        };

    public TeacherOutputs Run(Tensor images)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var x =
            images.shape[2] == InputSize && images.shape[3] == InputSize
                ? images
                : F.interpolate(images, [InputSize, InputSize], mode: InterpolationMode.Bilinear, align_corners: false);
        using var mean = tensor(new[] { 122.782f, 117.001f, 104.298f }).view(1, 3, 1, 1);
        var input = ((x + 1) * 127.5f - mean) / 255f;
        TeacherOutputs outputs = _net switch
        {
            FaceRecognitionNet r => new(r.Forward(input), null),
            FaceExpressionNet e => new(e.Features(input), e.Forward(input).index_select(1, FerOrder())),
            AgeGenderNet a => AgeGender(a, input),
            _ => throw new InvalidOperationException(),
        };
        outputs.Embedding?.MoveToOuterDisposeScope();
        outputs.Logits?.MoveToOuterDisposeScope();
        return outputs;
    }

    /// <summary>For each <see cref="Data.Expression"/> class, its index among face-api's labels.</summary>
    public static readonly int[] FaceApiIndexOfExpression = Enum.GetNames<Data.Expression>()
        .Select(n => Array.IndexOf(FaceExpressionNet.Labels, FaceExpressionNet.Fer2013ToFaceApi[n.ToLowerInvariant()]))
        .ToArray();

    private static Tensor FerOrder() => tensor(FaceApiIndexOfExpression.Select(i => (long)i).ToArray());

    private static TeacherOutputs AgeGender(AgeGenderNet net, Tensor input)
    {
        var (age, gender) = net.Forward(input);
        return new(net.Features(input), cat([age.unsqueeze(1), gender], 1));
    }

    public void Dispose() => _net.Dispose();
}
