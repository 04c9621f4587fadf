using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Graphs.Tfjs;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FaceDistill.Faces.Zoo;

/// <summary>face-api's TinyFaceDetector (<c>tiny_face_detector_model</c>), a separable-conv Tiny-YOLOv2
/// (faceapi/SPEC.md §4). The input (default 416², a multiple of 32) is padded bottom/right, not centred.
/// <code>
/// conv0: 3×3 VALID + bias, leaky₀.₁ → maxpool₂ₓ₂ˢ²ˢᵃᵐᵉ
/// conv1..4: zero-pad 1, separable VALID + bias, leaky → maxpool₂ₓ₂ˢ²ˢᵃᵐᵉ;   conv5 likewise, then maxpool₂ₓ₂ˢ¹ˢᵃᵐᵉ
/// conv8: 1×1 + bias → 25×G×G = 5 anchors × (tx, ty, tw, th, objectness)
/// score = σ(t₄);  cx = (col + σ(tx))/G·corrX,  w = e^tw·anchorW/G·corrX  (likewise y, h),  NMS IoU 0.4
/// </code>
/// with <c>corrX = max(rw, rh)/rw</c> for the rounded resized dimensions (rw, rh) of the image inside the input.
/// </summary>
public sealed class TinyFaceDetector : ZooNet
{
    public const string ModelName = "tiny_face_detector_model";
    private static readonly (double W, double H)[] Anchors =
    [
        (1.603231, 2.094468),
        (6.041143, 7.080126),
        (2.882459, 3.518061),
        (4.266906, 5.178857),
        (9.041765, 10.66308),
    ];

    private readonly Tensor _conv0W,
        _conv0B,
        _conv8W,
        _conv8B;
    private readonly List<(Tensor Dw, Tensor Pw, Tensor B)> _seps = [];

    public TinyFaceDetector(TfjsWeights weights)
        : base(nameof(TinyFaceDetector), weights)
    {
        _conv0W = Conv("conv0/filters", 3, 3, 3, 16);
        _conv0B = Vector("conv0/bias", 16);
        int cin = 16;
        for (int i = 1; i <= 5; i++)
        {
            int cout = cin * 2;
            _seps.Add(
                (
                    Depthwise($"conv{i}/depthwise_filter", 3, cin),
                    Conv($"conv{i}/pointwise_filter", 1, 1, cin, cout),
                    Vector($"conv{i}/bias", cout)
                )
            );
            cin = cout;
        }
        _conv8W = Conv("conv8/filters", 1, 1, 512, 25);
        _conv8B = Vector("conv8/bias", 25);
        CheckAllUsed();
    }

    public static TinyFaceDetector Load(string? home = null) =>
        new(TfjsWeights.Load(ModelZoo.CheckedManifest(ModelName, home)));

    /// <summary>Raw output <c>[N, 25, G, G]</c> (G = size/32) for normalised inputs <c>[N, 3, size,
    /// size]</c>.</summary>
    public Tensor Forward(Tensor input)
    {
        CheckInput(input, 0);
        if (input.shape[2] % 32 != 0 || input.shape[2] != input.shape[3])
            throw new FaceDistillException(
                $"TinyFaceDetector: input size must be square and a multiple of 32, got "
                    + $"{input.shape[2]}x{input.shape[3]}"
            );
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var x = F.leaky_relu(TfOps.Conv2dValid(input, _conv0W, _conv0B, 1), 0.1);
        x = TfOps.MaxPoolSame(x, 2, 2);
        for (int i = 0; i < _seps.Count; i++)
        {
            var (dw, pw, b) = _seps[i];
            var padded = F.pad(x, [1, 1, 1, 1]);
            x = F.leaky_relu(F.conv2d(TfOps.Conv2dValid(padded, dw, null, 1, groups: x.shape[1]), pw, b), 0.1);
            x = TfOps.MaxPoolSame(x, 2, i < 4 ? 2 : 1);
        }
        return F.conv2d(x, _conv8W, _conv8B).MoveToOuterDisposeScope();
    }

    /// <summary>Faces in <paramref name="image"/> (boxes in image pixels, unclipped), NMS applied.</summary>
    public List<FaceDetection> Detect(
        RgbImage image,
        int inputSize = 416,
        double scoreThreshold = 0.5,
        double iouThreshold = 0.4
    )
    {
        if (inputSize % 32 != 0)
            throw new FaceDistillException($"tiny face detector: input size {inputSize} is not a multiple of 32");
        using var batch = NetInput.ToBatch([image], inputSize, centered: false, ZooNormalization.TinyDetectorMean);
        using var raw = Forward(batch);
        return Decode(
            raw[0].data<float>().ToArray(),
            (int)raw.shape[2],
            image.Width,
            image.Height,
            inputSize,
            scoreThreshold,
            iouThreshold
        );
    }

    /// <summary>Decodes one raw output (NCHW <c>[25, G, G]</c> flattened) into detections in image pixels.</summary>
    public static List<FaceDetection> Decode(
        float[] raw,
        int grid,
        int imageWidth,
        int imageHeight,
        int inputSize,
        double scoreThreshold,
        double iouThreshold
    )
    {
        double s = inputSize / (double)Math.Max(imageWidth, imageHeight);
        int rw = NetInput.JsRound(imageWidth * s),
            rh = NetInput.JsRound(imageHeight * s);
        double corrX = Math.Max(rw, rh) / (double)rw,
            corrY = Math.Max(rw, rh) / (double)rh;
        double At(int ch, int row, int col) => raw[(ch * grid + row) * grid + col];
        var boxes = new List<FaceBox>();
        var scores = new List<double>();
        for (int row = 0; row < grid; row++)
        for (int col = 0; col < grid; col++)
        for (int a = 0; a < Anchors.Length; a++)
        {
            double score = Sigmoid(At(a * 5 + 4, row, col));
            if (!(score > scoreThreshold))
                continue;
            double cx = (col + Sigmoid(At(a * 5, row, col))) / grid * corrX;
            double cy = (row + Sigmoid(At(a * 5 + 1, row, col))) / grid * corrY;
            double w = Math.Exp(At(a * 5 + 2, row, col)) * Anchors[a].W / grid * corrX;
            double h = Math.Exp(At(a * 5 + 3, row, col)) * Anchors[a].H / grid * corrY;
            boxes.Add(new FaceBox(cx - w / 2, cy - h / 2, w, h));
            scores.Add(score);
        }
        return NonMaxSuppression
            .Greedy(boxes, scores, iouThreshold)
            .Select(i => new FaceDetection(
                scores[i],
                new FaceBox(
                    boxes[i].X * imageWidth,
                    boxes[i].Y * imageHeight,
                    boxes[i].Width * imageWidth,
                    boxes[i].Height * imageHeight
                )
            ))
            .ToList();
    }

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));
}
