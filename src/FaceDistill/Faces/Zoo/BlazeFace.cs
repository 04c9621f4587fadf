using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Graphs.Tfjs;
using static TorchSharp.torch;

namespace FaceDistill.Faces.Zoo;

/// <summary>A BlazeFace detection in photo pixels: the box, its score and MediaPipe's six keypoints, in the order
/// right eye, left eye, nose tip, mouth centre, right ear tragion, left ear tragion (the subject's right and
/// left).</summary>
public sealed record BlazeDetection(double Score, FaceBox Box, IReadOnlyList<(double X, double Y)> Keypoints)
{
    public const int RightEye = 0,
        LeftEye = 1,
        NoseTip = 2,
        MouthCentre = 3;
}

/// <summary>
/// MediaPipe's BlazeFace detector (Bazarevsky et al., "BlazeFace: Sub-millisecond Neural Face Detection on Mobile
/// GPUs", 2019) as <c>@vladmandic/human@3.3.6</c> ships it (<c>models/blazeface.json</c>: the 256-px model, four
/// outputs), imported from its tfjs graph (<see cref="TfjsGraphModule"/>) and decoded as human's
/// <c>src/face/blazeface.ts</c> does. With the photo W × H and S = 256:
/// <code>
///   x        = resize_bilinear_legacy(photo, S × S) / 127.5 − 1          the whole photo, stretched (no padding)
///   anchors  a_k = s·(i + ½, j + ½) on a grid of stride s: s = S/16 (16 × 16 cells, 2 anchors each: k &lt; 512),
///              then s = S/8 (8 × 8 cells, 6 each: 384 more)
///   r_k      = [logit, dx, dy, w, h, (kx, ky) × 6]                        rows 512 | 384 of the graph's outputs
///   score_k  = σ(logit);   c_k = a_k + (dx, dy);   box_k = c_k ± (w, h)/2;   keypoint_kj = a_k + (kx_j, ky_j)
/// </code>
/// all in input pixels, then scaled by (W/S, H/S) to the photo; greedy non-maximum suppression (IoU ≤
/// <see cref="IouThreshold"/>) over the boxes whose score exceeds the minimum.
/// </summary>
public sealed class BlazeFace : IDisposable
{
    public const string ModelName = "blazeface";
    public const int InputSize = 256;

    /// <summary>human's default <c>face.detector.iouThreshold</c>.</summary>
    public const double IouThreshold = 0.1;

    /// <summary>The graph's outputs: scores and regressions of the stride-16 anchors (512 rows), then of the stride-32
    /// anchors (384).</summary>
    private static readonly string[] Outputs = ["Identity", "Identity_2", "Identity_1", "Identity_3"];

    private readonly TfjsGraphModule _graph;
    private static readonly float[] Anchors = BuildAnchors(InputSize);

    public BlazeFace(TfjsGraphModule graph)
    {
        _graph = graph;
        _graph.eval();
    }

    /// <summary>The imported graph.</summary>
    public TfjsGraphModule Module => _graph;

    /// <summary>The installed net, its package's files checked against the checksums recorded at
    /// installation.</summary>
    public static BlazeFace Load(string? home = null)
    {
        if (HumanZoo.VerifyModel(ModelName, home) is [var problem, ..])
            throw new FaceDistillException(problem);
        return new BlazeFace(new TfjsGraphModule(TfjsGraph.Load(HumanZoo.ModelJson(ModelName, home)), ModelName));
    }

    /// <summary>The anchor centres (x, y), interleaved, in input pixels: human's <c>generateAnchors(S)</c>.</summary>
    public static float[] BuildAnchors(int size)
    {
        var centres = new List<float>();
        foreach (var (stride, perCell) in new[] { (size / 16, 2), (size / 8, 6) })
        {
            int cells = (size + stride - 1) / stride;
            for (int gy = 0; gy < cells; gy++)
            for (int gx = 0; gx < cells; gx++)
            for (int n = 0; n < perCell; n++)
            {
                centres.Add(stride * (gx + 0.5f));
                centres.Add(stride * (gy + 0.5f));
            }
        }
        return centres.ToArray();
    }

    /// <summary>The graph's input for a photo: <c>[1, 3, S, S]</c> in [−1, 1].</summary>
    public static Tensor Input(RgbImage photo)
    {
        using var scope = NewDisposeScope();
        var hwc = tensor(photo.Pixels, [photo.Height, photo.Width, 3]).to_type(ScalarType.Float32);
        var nchw = hwc.permute(2, 0, 1).unsqueeze(0);
        var resized = TfOps.ResizeBilinearLegacy(nchw, InputSize, InputSize);
        return (resized / 127.5f - 1f).MoveToOuterDisposeScope();
    }

    /// <summary>The raw rows <c>[896, 17]</c> of graph input <paramref name="input"/> (one photo): the four outputs
    /// joined as human joins them.</summary>
    public float[] Rows(Tensor input)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var o = _graph.Run(input, Outputs);
        var fine = cat([o["Identity"].reshape(1, 512, 1), o["Identity_2"].reshape(1, 512, 16)], 2);
        var coarse = cat([o["Identity_1"].reshape(1, 384, 1), o["Identity_3"].reshape(1, 384, 16)], 2);
        return cat([fine, coarse], 1).reshape(-1).contiguous().data<float>().ToArray();
    }

    /// <summary>The faces in <paramref name="photo"/> with a score above <paramref name="minScore"/>, at most
    /// <paramref name="maxFaces"/>, best first.</summary>
    public List<BlazeDetection> Detect(RgbImage photo, double minScore = 0.5, int maxFaces = 10)
    {
        using var input = Input(photo);
        return Decode(NativeRetry.Run(() => Rows(input)), photo.Width, photo.Height, minScore, maxFaces);
    }

    /// <summary>The decoding and suppression above, from the raw rows of <see cref="Rows"/>.</summary>
    public static List<BlazeDetection> Decode(
        IReadOnlyList<float> rows,
        int width,
        int height,
        double minScore,
        int maxFaces
    )
    {
        const int cols = 17;
        int n = Anchors.Length / 2;
        if (rows.Count != n * cols)
            throw new ArgumentException($"expected {n} × {cols} values, got {rows.Count}");
        double fx = width / (double)InputSize,
            fy = height / (double)InputSize;
        var boxes = new double[n][];
        var scores = new double[n];
        for (int k = 0; k < n; k++)
        {
            int r = k * cols;
            scores[k] = 1 / (1 + Math.Exp(-rows[r]));
            double cx = Anchors[2 * k] + rows[r + 1],
                cy = Anchors[2 * k + 1] + rows[r + 2];
            double hw = rows[r + 3] / 2,
                hh = rows[r + 4] / 2;
            boxes[k] = [(cy - hh) * fy, (cx - hw) * fx, (cy + hh) * fy, (cx + hw) * fx];
        }
        var kept = NonMaxSuppression.Ssd(boxes, scores, maxFaces, IouThreshold, minScore);
        return kept.Select(k =>
            {
                int r = k * cols;
                var points = Enumerable
                    .Range(0, 6)
                    .Select(j =>
                        ((Anchors[2 * k] + rows[r + 5 + 2 * j]) * fx, (Anchors[2 * k + 1] + rows[r + 6 + 2 * j]) * fy)
                    )
                    .ToList();
                var b = boxes[k];
                return new BlazeDetection(scores[k], new FaceBox(b[1], b[0], b[3] - b[1], b[2] - b[0]), points);
            })
            .ToList();
    }

    public void Dispose() => _graph.Dispose();
}
