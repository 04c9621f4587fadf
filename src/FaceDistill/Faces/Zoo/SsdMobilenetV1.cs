using FaceDistill.Data;
using FaceDistill.Graphs.Tfjs;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FaceDistill.Faces.Zoo;

/// <summary>Raw SSD outputs for one image: 5118 decoded boxes <c>[ymin, xmin, ymax, xmax]</c> relative to the padded
/// 512² input, and face scores.</summary>
public sealed record SsdOutput(double[][] Boxes, double[] Scores);

/// <summary>face-api's SsdMobilenetv1 (<c>ssd_mobilenetv1_model</c>, faceapi/SPEC.md §5). Input 512², padded
/// bottom/right, <c>x/127.5 − 1</c>.
/// <code>
/// pw(x) = relu6(conv_same(x) + offset)          dw(x) = relu6(BN(depthwise3ˣ³_same(x)))
/// BN(x) = (x − μ)/√(σ² + 0.001)·γ + β
/// MobileNetV1: pw₀ 3×3 s2, then 13 × (dw (stride 2 at 2, 4, 6, 12), pw 1×1); conv11 = 512×32², conv13 = 1024×16²
/// extra layers: 1×1 → 3×3 s2, four times → 8², 4², 2², 1²
/// six box predictors (3 anchors on conv11, 6 elsewhere): 1×1 convs, flattened NHWC → 5118 anchors
/// cy = ty/10·ah + acy,  cx = tx/10·aw + acx,  h/2 = e^(th/5)·ah/2,  w/2 = e^(tw/5)·aw/2;   score = σ(logit₁)
/// NMS IoU 0.5, score &gt; 0.5, at most 100; boxes clipped to [0, 1] and rescaled by 512/(rounded resized dims)
/// </code>
/// </summary>
public sealed class SsdMobilenetV1 : ZooNet
{
    public const int InputSize = 512;
    public const string ModelName = "ssd_mobilenetv1_model";
    private const double BnEpsilon = 0.0010000000474974513;

    private sealed record Pw(Tensor W, Tensor Offset);

    private sealed record Dw(Tensor W, Tensor Scale, Tensor Shift);

    private readonly Pw _conv0;
    private readonly List<(Dw Dw, Pw Pw, long Stride)> _mobilenet = [];
    private readonly List<(Pw Pw, long Stride)> _extra = [];
    private readonly List<(Tensor BoxW, Tensor BoxB, Tensor ClsW, Tensor ClsB)> _predictors = [];
    private readonly float[] _anchors;

    public SsdMobilenetV1(TfjsWeights weights)
        : base(nameof(SsdMobilenetV1), weights)
    {
        _conv0 = PwW("MobilenetV1/Conv2d_0_pointwise", 3, 3, 32);
        int[] channels = [64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024];
        int cin = 32;
        for (int i = 1; i <= 13; i++)
        {
            var dw = DwW($"MobilenetV1/Conv2d_{i}_depthwise", cin);
            var pw = PwW($"MobilenetV1/Conv2d_{i}_pointwise", 1, cin, channels[i - 1]);
            _mobilenet.Add((dw, pw, i is 2 or 4 or 6 or 12 ? 2 : 1));
            cin = channels[i - 1];
        }
        int[] extraOut = [256, 512, 128, 256, 128, 256, 64, 128];
        for (int i = 0; i < 8; i++)
        {
            _extra.Add(
                (PwW($"Prediction/Conv2d_{i}_pointwise", i % 2 == 1 ? 3 : 1, cin, extraOut[i]), i % 2 == 1 ? 2 : 1)
            );
            cin = extraOut[i];
        }
        int[] featC = [512, 1024, 512, 256, 256, 128];
        for (int k = 0; k < 6; k++)
        {
            int a = k == 0 ? 3 : 6;
            string p = $"Prediction/BoxPredictor_{k}";
            _predictors.Add(
                (
                    Conv($"{p}/BoxEncodingPredictor/weights", 1, 1, featC[k], a * 4),
                    Vector($"{p}/BoxEncodingPredictor/biases", a * 4),
                    Conv($"{p}/ClassPredictor/weights", 1, 1, featC[k], a * 3),
                    Vector($"{p}/ClassPredictor/biases", a * 3)
                )
            );
        }
        using (var anchors = Raw("Output/extra_dim", 1, 5118, 4))
            _anchors = anchors.data<float>().ToArray();
        // The manifest also holds 17 graph constants (Preprocessor/*, */stack*, concat_1/axis, ...) the net does not
        // use.
        CheckAllUsed(n =>
            !n.StartsWith("MobilenetV1/") && !n.Contains("Predictor/") && !n.StartsWith("Prediction/Conv2d_")
        );
    }

    public static SsdMobilenetV1 Load(string? home = null) =>
        new(TfjsWeights.Load(ModelZoo.CheckedManifest(ModelName, home)));

    private Pw PwW(string p, int k, int cin, int cout) =>
        new(Conv($"{p}/weights", k, k, cin, cout), Vector($"{p}/convolution_bn_offset", cout));

    private Dw DwW(string p, int c)
    {
        var w = Depthwise($"{p}/depthwise_weights", 3, c);
        var gamma = Vector($"{p}/BatchNorm/gamma", c);
        var beta = Vector($"{p}/BatchNorm/beta", c);
        var mean = Vector($"{p}/BatchNorm/moving_mean", c);
        var variance = Vector($"{p}/BatchNorm/moving_variance", c);
        using var std = (variance + BnEpsilon).sqrt_();
        var scale = gamma / std;
        var shift = beta - mean * scale;
        return new Dw(w, scale, shift);
    }

    private static Tensor PwF(Pw p, Tensor x, long stride) => TfOps.Conv2dSame(x, p.W, p.Offset, stride).clamp_(0, 6);

    private static Tensor DwF(Dw d, Tensor x, long stride) =>
        TfOps.ChannelAffine(TfOps.Conv2dSame(x, d.W, null, stride, groups: x.shape[1]), d.Scale, d.Shift).clamp_(0, 6);

    /// <summary>Box encodings <c>[N, 5118, 4]</c> (ty, tx, th, tw) and class logits <c>[N, 5118, 3]</c> for inputs
    /// <c>[N, 3, 512, 512]</c>.</summary>
    public (Tensor Encodings, Tensor Logits) Forward(Tensor input)
    {
        CheckInput(input, InputSize);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var x = PwF(_conv0, input, 2);
        Tensor conv11 = x;
        for (int i = 0; i < _mobilenet.Count; i++)
        {
            var (dw, pw, stride) = _mobilenet[i];
            x = PwF(pw, DwF(dw, x, stride), 1);
            if (i == 10)
                conv11 = x;
        }
        var feats = new List<Tensor> { conv11, x };
        for (int i = 0; i < _extra.Count; i++)
        {
            x = PwF(_extra[i].Pw, x, _extra[i].Stride);
            if (i % 2 == 1)
                feats.Add(x);
        }
        long n = input.shape[0];
        var boxes = new List<Tensor>();
        var classes = new List<Tensor>();
        for (int k = 0; k < 6; k++)
        {
            var (bw, bb, cw, cb) = _predictors[k];
            boxes.Add(F.conv2d(feats[k], bw, bb).permute(0, 2, 3, 1).reshape(n, -1, 4));
            classes.Add(F.conv2d(feats[k], cw, cb).permute(0, 2, 3, 1).reshape(n, -1, 3));
        }
        return (torch.cat(boxes, 1).MoveToOuterDisposeScope(), torch.cat(classes, 1).MoveToOuterDisposeScope());
    }

    /// <summary>Decodes one image's encodings against the anchors (faceapi/SPEC.md §5).</summary>
    public SsdOutput Decode(float[] encodings, float[] logits)
    {
        int count = _anchors.Length / 4;
        var boxes = new double[count][];
        var scores = new double[count];
        for (int i = 0; i < count; i++)
        {
            double ay0 = _anchors[4 * i],
                ax0 = _anchors[4 * i + 1],
                ay1 = _anchors[4 * i + 2],
                ax1 = _anchors[4 * i + 3];
            double ah = ay1 - ay0,
                aw = ax1 - ax0,
                acy = ay0 + ah / 2,
                acx = ax0 + aw / 2;
            double ty = encodings[4 * i],
                tx = encodings[4 * i + 1],
                th = encodings[4 * i + 2],
                tw = encodings[4 * i + 3];
            double cy = ty / 10 * ah + acy,
                cx = tx / 10 * aw + acx;
            double hh = Math.Exp(th / 5) * ah / 2,
                hw = Math.Exp(tw / 5) * aw / 2;
            boxes[i] = [cy - hh, cx - hw, cy + hh, cx + hw];
            scores[i] = 1 / (1 + Math.Exp(-logits[3 * i + 1]));
        }
        return new SsdOutput(boxes, scores);
    }

    /// <summary>Runs the net on one image and returns its raw decoded output.</summary>
    public SsdOutput Run(RgbImage image)
    {
        using var batch = NetInput.ToBatch([image], InputSize, centered: false, ZooNormalization.Ssd);
        var (enc, logits) = Forward(batch);
        using (enc)
        using (logits)
            return Decode(enc[0].data<float>().ToArray(), logits[0].data<float>().ToArray());
    }

    /// <summary>Faces in <paramref name="image"/>, boxes in image pixels clipped to the image.</summary>
    public List<FaceDetection> Detect(
        RgbImage image,
        double minConfidence = 0.5,
        int maxResults = 100,
        double iouThreshold = 0.5
    ) => PostProcess(Run(image), image.Width, image.Height, minConfidence, maxResults, iouThreshold);

    public static List<FaceDetection> PostProcess(
        SsdOutput raw,
        int imageWidth,
        int imageHeight,
        double minConfidence = 0.5,
        int maxResults = 100,
        double iouThreshold = 0.5
    )
    {
        var keep = NonMaxSuppression.Ssd(raw.Boxes, raw.Scores, maxResults, iouThreshold, minConfidence);
        double s = InputSize / (double)Math.Max(imageWidth, imageHeight);
        double padX = InputSize / (double)NetInput.JsRound(imageWidth * s),
            padY = InputSize / (double)NetInput.JsRound(imageHeight * s);
        return keep.Select(i =>
            {
                var b = raw.Boxes[i];
                double top = Math.Max(0, b[0]) * padY,
                    bottom = Math.Min(1, b[2]) * padY;
                double left = Math.Max(0, b[1]) * padX,
                    right = Math.Min(1, b[3]) * padX;
                return new FaceDetection(
                    raw.Scores[i],
                    new FaceBox(
                        left * imageWidth,
                        top * imageHeight,
                        (right - left) * imageWidth,
                        (bottom - top) * imageHeight
                    )
                );
            })
            .ToList();
    }
}
