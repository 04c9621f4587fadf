using System.Text.Json;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Distillation;
using FaceDistill.Faces;
using FaceDistill.Faces.Occlusion;
using FaceDistill.Faces.Zoo;
using FaceDistill.Training;
using static TorchSharp.torch;

namespace FaceDistill.Runs;

/// <summary>Settings of one landmark distillation (<c>facedistill frontend distill-landmarks</c>).</summary>
/// <param name="Folder">face photos with the teacher's 68 points on their clean faces in <c>landmarks.csv</c> (as
/// <c>align</c> writes it, or celeba299 ships it)</param>
/// <param name="HeldOutEvery">every n-th identity folder (in name order) is held out for the per-epoch error</param>
public sealed record LandmarkDistillOptions(
    string Folder,
    string Out,
    int Epochs = 30,
    int BatchSize = 64,
    double LearningRate = 2e-3,
    int InputSize = 64,
    double CropScale = 1.4,
    int Seed = 1,
    int HeldOutEvery = 20,
    bool Resume = false,
    string? Home = null
);

/// <summary>One epoch: the mean training loss and, on the held-out photos, the median NME of the student's four points
/// (<see cref="FaceLandmarks.FourPoints"/>) on each view against the teacher's on the clean photo (null: no held-out
/// photo has the view).</summary>
public sealed record LandmarkEpoch(int Epoch, double Loss, IReadOnlyDictionary<string, double?> MedianNme);

/// <summary>What a landmark distillation did: photos trained on and held out, (photo, view) pairs where BlazeFace
/// found no face, or a box that is not the teacher's face (left out), and every epoch.</summary>
public sealed record LandmarkDistillReport(
    string Out,
    int Train,
    int HeldOut,
    int Undetected,
    IReadOnlyList<LandmarkEpoch> Epochs
)
{
    /// <summary>The held-out error per view of the finished student looking twice (<see cref="BoxFromPoints"/>).
    /// </summary>
    public IReadOnlyDictionary<string, double?>? RefinedNme { get; init; }
}

/// <summary>
/// Occlusion-robust landmarks by distillation — the project's method turned on its own front end. The teacher is
/// face-api's 68-point net on the <b>clean</b> photo (its points read from the folder's <c>landmarks.csv</c>); the
/// student (<see cref="LandmarkStudent"/>) sees the same photo, pixel-aligned, clean or with an occluder drawn from
/// those points (a surgical mask, a VR headset, sunglasses; style by seed), through the crop BlazeFace's box gives on
/// <i>that</i> view — what it will see in use. Its loss is the wing loss (<see cref="WingLoss"/>) between its points
/// and the teacher's, both in the student's input pixels:
/// <code>
///   L = wing( S·f_θ(crop(occlude(x), box(occlude(x)))), T(p_teacher(x)) )
/// </code>
/// with T the similarity of the crop (S = input size). Augmentation: the box's scale (×e^U(−0.1, 0.1)), centre
/// (±6 % of the side), roll (±0.2 rad) and a horizontal flip (the 68 points re-indexed). AdamW, cosine learning rate
/// to zero; a checkpoint every epoch (<see cref="Checkpoint"/>: weights and Adam's state), from which <c>Resume</c>
/// continues: every epoch's order and augmentation come from (seed, epoch), so a resumed run repeats the uninterrupted
/// one's losses to about 1e-4 (not bit for bit; <c>LandmarkStudentTests</c>).
/// </summary>
public static class LandmarkDistillation
{
    public static readonly string[] Views = ["clean", "mask", "vr", "sunglasses"];
    private static readonly double[] ViewWeights = [0.25, 0.45, 0.15, 0.15];

    public static LandmarkDistillReport Run(LandmarkDistillOptions o, CancellationToken cancel = default)
    {
        Check(o);
        var teacher = LandmarkCsv.Read(Path.Combine(o.Folder, "landmarks.csv"));
        var paths = teacher.Keys.Order(StringComparer.Ordinal).ToList();
        var identities = paths.Select(Identity).Distinct().Order(StringComparer.Ordinal).ToList();
        var held = identities.Where((_, i) => i % o.HeldOutEvery == 0).ToHashSet();
        var photos = LoadViews(o, paths, teacher, cancel);
        // a photo whose every view BlazeFace missed has nothing to train on
        var train = photos.Where(p => !held.Contains(Identity(p.Path)) && p.Boxes.Any(b => b is not null)).ToList();
        var heldOut = photos.Where(p => held.Contains(Identity(p.Path))).ToList();
        if (train.Count == 0 || heldOut.Count == 0)
            throw FaceDistillException.ForFile(
                o.Folder,
                $"needs photos in at least {o.HeldOutEvery + 1} identity folders (one in {o.HeldOutEvery} is held out)"
            );

        var info = new LandmarkStudentInfo(o.InputSize, o.CropScale, "blazeface", "face-api 68 on the clean photo");
        manual_seed(Seeds.Derive(o.Seed, 0x1A2D)); // the initial weights come from the seed too
        using var student = new LandmarkStudent(info);
        var net = student.Net;
        using var optimizer = optim.AdamW(net.parameters(), o.LearningRate, weight_decay: 1e-4);
        var ckptDir = Path.Combine(o.Out, "checkpoints");
        var epochsPath = Path.Combine(o.Out, "epochs.json");
        var epochs = new List<LandmarkEpoch>();
        int start = 0;
        Checkpoint.RemoveUnfinished(ckptDir);
        if (Checkpoint.Latest(ckptDir) is { } latest)
        {
            Checkpoint.LoadWeights(latest, net, optimizer);
            start = Checkpoint.LoadState(latest).Epoch;
            if (File.Exists(epochsPath))
                epochs = (JsonSerializer.Deserialize<List<LandmarkEpoch>>(File.ReadAllText(epochsPath)) ?? [])
                    .Take(start)
                    .ToList();
        }
        int stepsPerEpoch = (train.Count + o.BatchSize - 1) / o.BatchSize;
        long step = (long)start * stepsPerEpoch;
        using (var bar = Progress.Start("landmark student", (long)o.Epochs * stepsPerEpoch))
        {
            bar.Update(step);
            for (int epoch = start; epoch < o.Epochs; epoch++)
            {
                net.train();
                var order = Seeds.Permutation(train.Count, Seeds.Derive(o.Seed, epoch, 0x1A4D));
                var rng = Seeds.Rng(o.Seed, epoch, 0x5EED);
                double lossSum = 0;
                for (int b = 0; b < stepsPerEpoch; b++)
                {
                    cancel.ThrowIfCancellationRequested();
                    var batch = order.Skip(b * o.BatchSize).Take(o.BatchSize).Select(i => train[i]).ToList();
                    double lr =
                        o.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * step / ((double)o.Epochs * stepsPerEpoch)));
                    foreach (var g in optimizer.ParamGroups)
                        g.LearningRate = lr;
                    double loss = Step(student, optimizer, batch, rng);
                    if (!double.IsFinite(loss))
                        throw new FaceDistillException(
                            $"the landmark student's loss is not finite at step {step + 1} (epoch {epoch + 1}); "
                                + "lower --lr"
                        );
                    lossSum += loss;
                    bar.Update(++step);
                }
                var nme = Validate(student, heldOut);
                epochs.Add(new LandmarkEpoch(epoch + 1, lossSum / stepsPerEpoch, nme));
                Checkpoint.Save(
                    ckptDir,
                    net,
                    optimizer,
                    new CheckpointState(step, epoch + 1, lossSum / stepsPerEpoch, "", DateTime.UtcNow),
                    keep: 2
                );
                AtomicFile.WriteAllText(epochsPath, JsonSerializer.Serialize(epochs));
            }
        }
        // where BlazeFace's box lies relative to the teacher's points on the clean training photos: the student's
        // second look is placed from its own first points
        student.Calibrate(
            BoxFromPoints.Fit(
                train.Where(p => p.Boxes[0] is not null).Select(p => (p.Boxes[0]!.Value, p.Points)).ToList()
            )
        );
        var refined = Validate(student, heldOut);
        student.Save(o.Out);
        var report = new LandmarkDistillReport(
            o.Out,
            train.Count,
            heldOut.Count,
            photos.Sum(p => p.Boxes.Count(b => b is null)),
            epochs
        )
        {
            RefinedNme = refined,
        };
        AtomicFile.WriteAllText(
            Path.Combine(o.Out, "report.json"),
            JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true })
        );
        return report;
    }

    private static void Check(LandmarkDistillOptions o)
    {
        if (!Directory.Exists(o.Folder))
            throw FaceDistillException.ForFile(o.Folder, "no such folder");
        if (o.Epochs is < 1 or > 10_000)
            throw new FaceDistillException($"--epochs must be in [1, 10000], found {o.Epochs}");
        if (o.BatchSize is < 2 or > 4096)
            throw new FaceDistillException($"--batch must be in [2, 4096], found {o.BatchSize}");
        if (!(o.LearningRate > 0 && o.LearningRate < 1))
            throw new FaceDistillException($"--lr must be in (0, 1), found {o.LearningRate}");
        if (o.HeldOutEvery < 2)
            throw new FaceDistillException($"--held-out-every must be at least 2, found {o.HeldOutEvery}");
        if (File.Exists(Path.Combine(o.Out, LandmarkStudent.WeightsFile)))
            throw FaceDistillException.ForFile(o.Out, "holds a trained landmark student; choose another --out");
        bool started = Directory.Exists(Path.Combine(o.Out, "checkpoints")) || File.Exists(ViewsFile(o.Out));
        if (started && !o.Resume)
            throw FaceDistillException.ForFile(o.Out, "holds an unfinished run; add --resume to continue it");
        if (!started && Directory.Exists(o.Out) && Directory.EnumerateFileSystemEntries(o.Out).Any())
            throw FaceDistillException.ForFile(o.Out, "is not empty; choose another --out");
        try
        {
            Directory.CreateDirectory(o.Out);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw FaceDistillException.ForFile(o.Out, $"cannot be created ({e.Message})");
        }
    }

    private static string Identity(string path) => path.Contains('/') ? path[..path.IndexOf('/')] : "";

    private static string ViewsFile(string dir) => Path.Combine(dir, "views.csv");

    /// <summary>A photo: the teacher's points and, per view, the rendered image and BlazeFace's best box on it (null:
    /// none found — the view is left out).</summary>
    private sealed record Photo(string Path, FaceLandmarks Points, RgbImage[] Images, FaceBox?[] Boxes)
    {
        public Point2[] Teacher { get; } = Points.FourPoints();
    }

    /// <summary>Every photo's views, rendered (deterministic by seed) and searched once by BlazeFace; the boxes are
    /// kept in <c>views.csv</c>, so a resumed run renders again but does not search again.</summary>
    private static List<Photo> LoadViews(
        LandmarkDistillOptions o,
        List<string> paths,
        Dictionary<string, FaceLandmarks> teacher,
        CancellationToken cancel
    )
    {
        var known = File.Exists(ViewsFile(o.Out)) ? ReadBoxes(ViewsFile(o.Out)) : null;
        using var blaze = known is null ? BlazeFace.Load(o.Home) : null;
        var occluders = Views.Select(v => v == "clean" ? null : Occluder.Parse(v)).ToArray();
        var photos = new List<Photo>();
        var rows = new List<string> { "path,view,x,y,w,h" };
        using (var bar = Progress.Start(known is null ? "views (render, detect)" : "views (render)", paths.Count))
        {
            for (int i = 0; i < paths.Count; i++)
            {
                cancel.ThrowIfCancellationRequested();
                bar.Update(i + 1);
                var image = ImageCodec.Load(Path.Combine(o.Folder, paths[i]));
                var points = teacher[paths[i]];
                var flat = points.Points.SelectMany(p => new[] { (float)p.X, (float)p.Y }).ToArray();
                var images = new RgbImage[Views.Length];
                var boxes = new FaceBox?[Views.Length];
                for (int v = 0; v < Views.Length; v++)
                {
                    images[v] = occluders[v] is { } occ ? occ.Apply(image, flat, Seeds.Rng(o.Seed, i, v)) : image;
                    var key = $"{paths[i]}|{Views[v]}";
                    boxes[v] = known is not null
                        ? known.GetValueOrDefault(key)
                        : NativeRetry.Run(() => blaze!.Detect(images[v], 0.5)).MaxBy(d => d.Score)?.Box;
                    if (boxes[v] is { } found && !Covers(found, points))
                        boxes[v] = null;
                    if (boxes[v] is { } b)
                        rows.Add(
                            FormattableString.Invariant(
                                $"{paths[i]},{Views[v]},{b.X:F2},{b.Y:F2},{b.Width:F2},{b.Height:F2}"
                            )
                        );
                }
                photos.Add(new Photo(paths[i], points, images, boxes));
            }
        }
        if (known is null)
        {
            Directory.CreateDirectory(o.Out);
            AtomicFile.WriteAllText(ViewsFile(o.Out), string.Join('\n', rows) + "\n");
        }
        return photos;
    }

    /// <summary>Whether a box is the teacher's face: its centre inside the bounding box of the 68 points and its longer
    /// side at least half theirs (BlazeFace's best box on an occluded photo is sometimes something else).</summary>
    private static bool Covers(FaceBox box, FaceLandmarks points)
    {
        double x0 = points.Points.Min(p => p.X),
            x1 = points.Points.Max(p => p.X),
            y0 = points.Points.Min(p => p.Y),
            y1 = points.Points.Max(p => p.Y);
        double cx = box.X + box.Width / 2,
            cy = box.Y + box.Height / 2;
        return cx >= x0
            && cx <= x1
            && cy >= y0
            && cy <= y1
            && Math.Max(box.Width, box.Height) >= 0.5 * Math.Max(x1 - x0, y1 - y0);
    }

    private static Dictionary<string, FaceBox> ReadBoxes(string path)
    {
        var boxes = new Dictionary<string, FaceBox>(StringComparer.Ordinal);
        foreach (var (line, f) in Csv.Records(File.ReadAllText(path), path).Skip(1))
        {
            if (
                f.Length != 6
                || !Number(f[2], out var x)
                || !Number(f[3], out var y)
                || !Number(f[4], out var w)
                || !Number(f[5], out var h)
            )
                throw FaceDistillException.ForFile(path, $"line {line}: expected path,view,x,y,w,h");
            boxes[$"{f[0]}|{f[1]}"] = new FaceBox(x, y, w, h);
        }
        return boxes;
    }

    private static bool Number(string s, out double v) =>
        double.TryParse(
            s,
            System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture,
            out v
        ) && double.IsFinite(v);

    /// <summary>One optimisation step over a batch; returns its loss.</summary>
    private static double Step(LandmarkStudent student, optim.Optimizer optimizer, List<Photo> batch, Random rng)
    {
        int size = student.Info.InputSize;
        int plane = 3 * size * size;
        var input = new float[batch.Count * plane];
        var target = new float[batch.Count * 2 * FaceLandmarks.Count];
        for (int n = 0; n < batch.Count; n++)
        {
            var p = batch[n];
            int v = PickView(p, rng);
            var (cx, cy, side) = student.CropFor(p.Boxes[v]!.Value);
            side *= Math.Exp(rng.Uniform(-0.1, 0.1));
            cx += rng.Uniform(-0.06, 0.06) * side;
            cy += rng.Uniform(-0.06, 0.06) * side;
            var t = student.InputTransform(cx, cy, side, rng.Uniform(-0.2, 0.2));
            var warped = FaceAligner.Warp(p.Images[v], t.A, t.B, t.Tx, t.Ty, size, size);
            bool flip = rng.NextDouble() < 0.5;
            if (flip)
                warped = Mirror(warped);
            LandmarkStudent.Pixels(warped, input.AsSpan(n * plane, plane));
            for (int k = 0; k < FaceLandmarks.Count; k++)
            {
                var q = p.Points.Points[flip ? FlipIndex[k] : k];
                double x = t.A * q.X - t.B * q.Y + t.Tx,
                    y = t.B * q.X + t.A * q.Y + t.Ty;
                target[n * 136 + 2 * k] = (float)(flip ? size - 1 - x : x);
                target[n * 136 + 2 * k + 1] = (float)y;
            }
        }
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        var x0 = tensor(input, [batch.Count, 3, size, size]);
        var y0 = tensor(target, [batch.Count, 136]);
        var loss = WingLoss.Compute(student.Net.call(x0) * size, y0);
        loss.backward();
        optimizer.step();
        return loss.item<float>();
    }

    private static int PickView(Photo p, Random rng)
    {
        double total = 0;
        for (int v = 0; v < Views.Length; v++)
            total += p.Boxes[v] is null ? 0 : ViewWeights[v];
        double u = rng.NextDouble() * total;
        for (int v = 0; v < Views.Length; v++)
        {
            if (p.Boxes[v] is null)
                continue;
            u -= ViewWeights[v];
            if (u <= 0)
                return v;
        }
        return Array.FindLastIndex(p.Boxes, b => b is not null);
    }

    /// <summary>Per view, the median NME of the student's four points on the held-out photos (through the view's own
    /// box) against the teacher's on the clean photo (<see cref="LandmarkSurvey.Nme"/>).</summary>
    private static Dictionary<string, double?> Validate(LandmarkStudent student, List<Photo> heldOut)
    {
        var result = new Dictionary<string, double?>();
        for (int v = 0; v < Views.Length; v++)
        {
            var nme = heldOut
                .Where(p => p.Boxes[v] is not null)
                .Select(p =>
                    LandmarkSurvey.Nme(p.Teacher, student.Locate(p.Images[v], [p.Boxes[v]!.Value])[0].FourPoints())
                )
                .Order()
                .ToList();
            result[Views[v]] = nme.Count == 0 ? null : nme[nme.Count / 2];
        }
        return result;
    }

    private static RgbImage Mirror(RgbImage image)
    {
        int w = image.Width;
        var px = new byte[image.Pixels.Length];
        for (int y = 0; y < image.Height; y++)
        for (int x = 0; x < w; x++)
            Array.Copy(image.Pixels, (y * w + x) * 3, px, (y * w + (w - 1 - x)) * 3, 3);
        return new RgbImage(w, image.Height, px);
    }

    /// <summary>The iBUG 68 points' mirror images: jaw, brows, nose wings, eyes and lips swap sides.</summary>
    public static readonly int[] FlipIndex = BuildFlip();

    private static int[] BuildFlip()
    {
        var f = Enumerable.Range(0, FaceLandmarks.Count).ToArray();
        void Swap(int a, int b) => (f[a], f[b]) = (b, a);
        for (int i = 0; i < 8; i++)
            Swap(i, 16 - i);
        for (int i = 0; i < 5; i++)
            Swap(17 + i, 26 - i);
        Swap(31, 35);
        Swap(32, 34);
        (int, int)[] eyes = [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)];
        foreach (var (a, b) in eyes)
            Swap(a, b);
        (int, int)[] lips = [(48, 54), (49, 53), (50, 52), (55, 59), (56, 58), (60, 64), (61, 63), (65, 67)];
        foreach (var (a, b) in lips)
            Swap(a, b);
        return f;
    }
}
