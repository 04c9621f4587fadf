using System.Text.Json;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Faces.Zoo;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Faces;

/// <summary>What a landmark student was trained for: its input size, the crop it reads around a detector's box (a
/// square of <see cref="CropScale"/> × the box's longer side, centred on the box), the detector whose boxes it was
/// trained on, the teacher whose points it learned, and where the detector's box lies relative to the teacher's points
/// on clean faces (<see cref="Refine"/>; null: one pass).</summary>
public sealed record LandmarkStudentInfo(
    int InputSize,
    double CropScale,
    string Detector,
    string Teacher,
    BoxFromPoints? Refine = null
);

/// <summary>The detector's box on a clean face from its 68 points, in units of the eye distance d: centre = the
/// points' mean + (Dx, Dy)·d, side = Side·d (medians over the training photos).</summary>
public sealed record BoxFromPoints(double Dx, double Dy, double Side)
{
    public FaceBox For(FaceLandmarks points)
    {
        var four = points.FourPoints();
        double d = four[0].DistanceTo(four[1]);
        double cx = points.Points.Average(p => p.X) + Dx * d,
            cy = points.Points.Average(p => p.Y) + Dy * d;
        return new FaceBox(cx - Side * d / 2, cy - Side * d / 2, Side * d, Side * d);
    }

    /// <summary>The medians of each face's offset and side (faces: the clean box and the teacher's points).</summary>
    public static BoxFromPoints Fit(IReadOnlyList<(FaceBox Box, FaceLandmarks Points)> faces)
    {
        if (faces.Count == 0)
            throw new ArgumentException("no faces to fit the box on");
        double Median(IEnumerable<double> v)
        {
            var s = v.Order().ToList();
            return s[s.Count / 2];
        }
        var rows = faces
            .Select(f =>
            {
                var four = f.Points.FourPoints();
                double d = Math.Max(1e-6, four[0].DistanceTo(four[1]));
                return (
                    Dx: (f.Box.X + f.Box.Width / 2 - f.Points.Points.Average(p => p.X)) / d,
                    Dy: (f.Box.Y + f.Box.Height / 2 - f.Points.Points.Average(p => p.Y)) / d,
                    Side: Math.Max(f.Box.Width, f.Box.Height) / d
                );
            })
            .ToList();
        return new BoxFromPoints(
            Median(rows.Select(r => r.Dx)),
            Median(rows.Select(r => r.Dy)),
            Median(rows.Select(r => r.Side))
        );
    }
}

/// <summary>
/// A small landmark net trained by distillation (<c>Runs/LandmarkDistillation.cs</c>) to put face-api's 68 points
/// where the teacher puts them on the clean face, from a crop where the face may be masked, behind a VR headset or
/// sunglasses.
/// It reads a square crop around a detector's box, resized to <see cref="LandmarkStudentInfo.InputSize"/> (pixels
/// scaled to [−1, 1]), and returns the 68 points as fractions of that crop. A plain VGG-style stack: four stages of two
/// 3×3 convolutions (batch norm, ReLU; the first of each stage with stride 2), channels 32 → 64 → 128 → 256, then one
/// linear layer from the flattened 4×4 map (at 64 px) to 136 outputs. With <see cref="LandmarkStudentInfo.Refine"/>
/// it looks twice: the second crop is placed from its own first points (<see cref="BoxFromPoints"/>), not from the
/// detector's box, which an occluder moves.
/// </summary>
public sealed class LandmarkStudent : IDisposable
{
    public const string WeightsFile = "landmarks.bin";
    public const string InfoFile = "landmarks.json";

    public LandmarkStudentInfo Info { get; private set; }
    public LandmarkStudentNet Net { get; }

    public LandmarkStudent(LandmarkStudentInfo info)
    {
        if (info.InputSize is < 32 or > 256 || info.InputSize % 16 != 0)
            throw new FaceDistillException(
                $"a landmark student's input size must be a multiple of 16 in [32, 256], " + $"found {info.InputSize}"
            );
        if (info.CropScale is < 1 or > 3)
            throw new FaceDistillException(
                $"a landmark student's crop scale must be in [1, 3], found {info.CropScale}"
            );
        Info = info;
        Net = new LandmarkStudentNet(info.InputSize);
    }

    /// <summary>Records where the detector's box lies relative to the points (<see cref="BoxFromPoints.Fit"/>):
    /// from now on <see cref="Locate"/> looks twice.</summary>
    public void Calibrate(BoxFromPoints refine) => Info = Info with { Refine = refine };

    /// <summary>A trained student from its folder (<see cref="WeightsFile"/> and <see cref="InfoFile"/>).</summary>
    public static LandmarkStudent Load(string dir)
    {
        var infoPath = Path.Combine(dir, InfoFile);
        var weights = Path.Combine(dir, WeightsFile);
        if (!File.Exists(infoPath) || !File.Exists(weights))
            throw FaceDistillException.ForFile(dir, $"not a landmark student (needs {InfoFile} and {WeightsFile})");
        LandmarkStudentInfo? info;
        try
        {
            info = JsonSerializer.Deserialize<LandmarkStudentInfo>(File.ReadAllText(infoPath));
        }
        catch (JsonException e)
        {
            throw FaceDistillException.ForFile(infoPath, $"malformed JSON ({e.Message.Split('.')[0]})");
        }
        if (info is null)
            throw FaceDistillException.ForFile(infoPath, "empty");
        var student = new LandmarkStudent(info);
        try
        {
            student.Net.load(weights, strict: true);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
        {
            throw FaceDistillException.ForFile(weights, $"does not fit the net {InfoFile} describes ({e.Message})");
        }
        student.Net.eval();
        return student;
    }

    /// <summary>Writes the weights and the info file into <paramref name="dir"/> (each atomically).</summary>
    public void Save(string dir)
    {
        Directory.CreateDirectory(dir);
        AtomicFile.Write(Path.Combine(dir, WeightsFile), tmp => Net.save(tmp));
        AtomicFile.WriteAllText(
            Path.Combine(dir, InfoFile),
            JsonSerializer.Serialize(Info, new JsonSerializerOptions { WriteIndented = true })
        );
    }

    /// <summary>The square the student reads around <paramref name="box"/>: centre and side in image pixels.</summary>
    public (double Cx, double Cy, double Side) CropFor(FaceBox box) =>
        (box.X + box.Width / 2, box.Y + box.Height / 2, Info.CropScale * Math.Max(box.Width, box.Height));

    /// <summary>The similarity that maps image pixels into the student's input for a square (centre, side) turned
    /// by <paramref name="roll"/> radians: <c>x' = a·x − b·y + tx</c>, <c>y' = b·x + a·y + ty</c>.</summary>
    public (double A, double B, double Tx, double Ty) InputTransform(double cx, double cy, double side, double roll = 0)
    {
        double s = Info.InputSize / side;
        double a = s * Math.Cos(roll),
            b = s * Math.Sin(roll);
        double half = Info.InputSize / 2.0;
        return (a, b, half - (a * cx - b * cy), half - (b * cx + a * cy));
    }

    /// <summary>An image warped into the student's input, as CHW floats in [−1, 1].</summary>
    public static void Pixels(RgbImage warped, Span<float> chw)
    {
        int n = warped.Width * warped.Height;
        var px = warped.Pixels;
        for (int i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            chw[c * n + i] = px[i * 3 + c] / 127.5f - 1f;
    }

    /// <summary>The 68 points of the face in each box, in image pixels (one batch; a second, from the first points'
    /// own box, with <see cref="LandmarkStudentInfo.Refine"/>).</summary>
    public List<FaceLandmarks> Locate(RgbImage image, IReadOnlyList<FaceBox> boxes)
    {
        var first = LocateOnce(image, boxes);
        return Info.Refine is { } refine ? LocateOnce(image, first.Select(refine.For).ToList()) : first;
    }

    private List<FaceLandmarks> LocateOnce(RgbImage image, IReadOnlyList<FaceBox> boxes)
    {
        if (boxes.Count == 0)
            return [];
        int size = Info.InputSize;
        var input = new float[boxes.Count * 3 * size * size];
        var transforms = new (double A, double B, double Tx, double Ty)[boxes.Count];
        for (int i = 0; i < boxes.Count; i++)
        {
            var (cx, cy, side) = CropFor(boxes[i]);
            transforms[i] = InputTransform(cx, cy, side);
            var (a, b, tx, ty) = transforms[i];
            Pixels(
                FaceAligner.Warp(image, a, b, tx, ty, size, size),
                input.AsSpan(i * 3 * size * size, 3 * size * size)
            );
        }
        float[] raw;
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            Net.eval();
            var x = tensor(input, [boxes.Count, 3, size, size]);
            raw = Net.forward(x).data<float>().ToArray();
        }
        return Enumerable
            .Range(0, boxes.Count)
            .Select(i => new FaceLandmarks(ToImage(raw.AsSpan(i * 136, 136), transforms[i], size)))
            .ToList();
    }

    /// <summary>Outputs (fractions of the input) mapped back to image pixels through the inverse transform.</summary>
    public static Point2[] ToImage(ReadOnlySpan<float> fc, (double A, double B, double Tx, double Ty) t, int size)
    {
        double det = t.A * t.A + t.B * t.B;
        var points = new Point2[FaceLandmarks.Count];
        for (int k = 0; k < points.Length; k++)
        {
            double u = fc[2 * k] * size - t.Tx,
                v = fc[2 * k + 1] * size - t.Ty;
            points[k] = new Point2((t.A * u + t.B * v) / det, (-t.B * u + t.A * v) / det);
        }
        return points;
    }

    public void Dispose() => Net.Dispose();
}

/// <summary>The student's layers (see <see cref="LandmarkStudent"/>).</summary>
public sealed class LandmarkStudentNet : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> _features;
    private readonly nn.Module<Tensor, Tensor> _fc;

    public LandmarkStudentNet(int inputSize)
        : base(nameof(LandmarkStudentNet))
    {
        var layers = new List<nn.Module<Tensor, Tensor>>();
        int channels = 3;
        foreach (var width in new[] { 32, 64, 128, 256 })
        {
            layers.Add(Block(channels, width, stride: 2));
            layers.Add(Block(width, width, stride: 1));
            channels = width;
        }
        _features = nn.Sequential(layers);
        int side = inputSize / 16;
        _fc = nn.Linear(channels * side * side, 2 * FaceLandmarks.Count);
        RegisterComponents();
    }

    private static nn.Module<Tensor, Tensor> Block(int cin, int cout, int stride) =>
        nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride: stride, padding: 1, bias: false),
            nn.BatchNorm2d(cout),
            nn.ReLU()
        );

    public override Tensor forward(Tensor input)
    {
        using var f = _features.call(input);
        using var flat = f.flatten(1);
        // outputs are fractions of the crop: start from its centre
        return _fc.call(flat).add_(0.5);
    }
}
