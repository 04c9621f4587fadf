using System.Diagnostics;
using System.Globalization;
using System.Text;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Data.Synthetic;
using FaceDistill.Models;
using FaceDistill.Models.Heads;
using static TorchSharp.torch;

// FaceDistill benchmarks. Speeds are reported as ratios against references measured in the same process, because the
// machine is noisy: train-step FLOP/s against libtorch's plain matmul FLOP/s, the data loader against the train step's
// consumption rate, the synthetic generator against JPEG decoding.
//   dotnet run --project bench/FaceDistill.Bench -c Release -- [--out docs/benchmarks.md] [--quick]
var argsList = args.ToList();
string? outPath = argsList.IndexOf("--out") is var oi && oi >= 0 && oi + 1 < argsList.Count ? argsList[oi + 1] : null;
bool quick = argsList.Contains("--quick");
int threads = Environment.ProcessorCount;
set_num_threads(threads);
TorchRuntime.EnsureInitialized();
var md = new StringBuilder();
void Line(string s = "") { Console.WriteLine(s); md.AppendLine(s); }
string F(double v, string f = "F1") => v.ToString(f, CultureInfo.InvariantCulture);

static double Median(List<double> xs) { xs.Sort(); return xs[xs.Count / 2]; }

// 1. matmul reference
double MatmulGflops()
{
    using var a = randn(1024, 1024);
    using var b = randn(1024, 1024);
    for (int i = 0; i < 3; i++) a.matmul(b).Dispose();
    var times = new List<double>();
    for (int i = 0; i < (quick ? 5 : 15); i++)
    {
        var sw = Stopwatch.StartNew();
        a.matmul(b).Dispose();
        times.Add(sw.Elapsed.TotalSeconds);
    }
    return 2.0 * 1024 * 1024 * 1024 / Median(times) / 1e9;
}

// 2. train step: forward + backward + SGD step, batch 64, 112×112, ArcFace head over 1000 classes
(double ImagesPerSecond, ModelStats Stats) TrainStep(string backbone)
{
    manual_seed(1);
    using var net = ModelFactory.CreateBackbone(backbone, 112, backbone == "mobilefacenet" ? 128 : 512);
    var stats = ModelStats.Measure(net);
    using var head = CombinedMarginHead.ArcFace(net.EmbeddingSize, 1000);
    var ps = net.parameters().Concat(head.parameters()).ToList();
    using var opt = optim.SGD(ps, 0.01, 0.9);
    using var x = randn(64, 3, 112, 112);
    using var y = randint(0, 1000, 64);
    net.train();
    var times = new List<double>();
    int steps = quick ? 2 : backbone == "mobilefacenet" ? 6 : 3;
    for (int i = 0; i < steps + 1; i++)
    {
        var sw = Stopwatch.StartNew();
        using (var scope = NewDisposeScope())
        {
            var loss = head.Loss(head.call(net.call(x), y), y);
            opt.zero_grad();
            loss.backward();
        }
        opt.step();
        if (i > 0) times.Add(sw.Elapsed.TotalSeconds); // the first step warms up
    }
    return (64 / Median(times), stats);
}

// 3. data pipeline: decode + augment (+ render for synthetic) into batches, as the trainer consumes them
double LoaderRate(IFaceDataset data, int workers)
{
    var loader = new DataLoader(data, new DataLoaderOptions
    {
        BatchSize = 64, ImageSize = 112, Workers = workers, Seed = 1,
        Augment = new AugmentOptions { Flip = true, ScaleMin = 0.9, ScaleMax = 1, Shift = 0.04, Brightness = 0.2, Contrast = 0.2, Saturation = 0.2 },
    });
    var sw = Stopwatch.StartNew();
    int n = 0;
    foreach (var b in loader.Epoch(0)) n += b.Count;
    return n / sw.Elapsed.TotalSeconds;
}

Line("# Benchmarks");
Line();
Line($"Measured {DateTime.UtcNow:yyyy-MM-dd} on {Environment.ProcessorCount} CPU cores ({System.Runtime.InteropServices.RuntimeInformation.OSDescription}), " +
     $"libtorch threads {threads}, TorchSharp 0.107 (libtorch 2.10 CPU), oneDNN {(TorchRuntime.MkldnnEnabled ? "on" : "off")} (ISA capped at {TorchRuntime.OneDnnMaxIsa}), NNPACK off.");
Line($"Command: `dotnet run --project bench/FaceDistill.Bench -c Release -- --out docs/benchmarks.md{(quick ? " --quick" : "")}`");
Line();
double gflops = MatmulGflops();
Line("## Train step (batch 64, 112×112, ArcFace head over 1000 classes, SGD)");
Line();
Line($"Reference: plain fp32 matmul 1024×1024 in the same process: **{F(gflops)} GFLOP/s**.");
Line();
Line("| backbone | params (M) | GFLOPs / image (fwd) | images/s | achieved GFLOP/s (3 × fwd) | fraction of matmul |");
Line("|---|---:|---:|---:|---:|---:|");
var rates = new Dictionary<string, double>();
foreach (var b in new[] { "mobilefacenet", "iresnet18" })
{
    var (ips, st) = TrainStep(b);
    rates[b] = ips;
    double achieved = 3.0 * st.Flops * ips / 1e9;
    Line($"| {b} | {F(st.Parameters / 1e6, "F2")} | {F(st.Flops / 1e9, "F3")} | {F(ips)} | {F(achieved)} | {F(achieved / gflops, "P0")} |");
}
Line();
TorchRuntime.SetMkldnn(false);
var (mfnOff, _) = TrainStep("mobilefacenet");
TorchRuntime.SetMkldnn(true);
Line($"With oneDNN switched off altogether (`FACEDISTILL_MKLDNN=0`, see docs/platform-notes.md): mobilefacenet {F(mfnOff)} images/s " +
     $"({F(mfnOff / rates["mobilefacenet"], "F2")}× the default).");
Line();

Line("## Data pipeline (decode/render + augment to 112×112 batches of 64)");
Line();
var synth = new SyntheticFaces(new SyntheticOptions { Identities = quick ? 16 : 40, ImagesPerIdentity = 16, Size = 112 });
var tmp = Path.Combine(Path.GetTempPath(), $"facedistill-bench-{Guid.NewGuid():N}");
int nFiles = quick ? 256 : 640;
for (int i = 0; i < nFiles; i++) ImageCodec.Save(synth.Image(i % synth.Count), Path.Combine(tmp, $"c{i % 8}", $"{i}.jpg"));
var jpegs = FileFaceDataset.FromImageFolder(tmp, FaceTask.Recognition);
double consume = rates["mobilefacenet"];
Line($"Reference: the MobileFaceNet train step above consumes **{F(consume)} images/s**.");
Line();
Line("| source | workers | images/s | × train-step consumption |");
Line("|---|---:|---:|---:|");
foreach (var w in new[] { 1, 2 })
{
    double r = LoaderRate(jpegs, w);
    Line($"| JPEG files 112×112 (decode + augment) | {w} | {F(r)} | {F(r / consume, "F1")}× |");
}
foreach (var w in new[] { 1, 2 })
{
    double r = LoaderRate(synth, w);
    Line($"| synthetic faces (render + augment) | {w} | {F(r)} | {F(r / consume, "F1")}× |");
}
Directory.Delete(tmp, recursive: true);
Line();

Line("## Synthetic face generator (112×112, one thread)");
Line();
var gen = new SyntheticFaces(new SyntheticOptions { Identities = 50, ImagesPerIdentity = 20, Size = 112, Seed = 3 });
int count = quick ? 200 : 600;
var swg = Stopwatch.StartNew();
for (int i = 0; i < count; i++) gen.Image(i);
double facesPerSec = count / swg.Elapsed.TotalSeconds;
var jpegBytes = Enumerable.Range(0, 50).Select(i => { var p = Path.Combine(Path.GetTempPath(), $"fd-{Guid.NewGuid():N}.jpg"); ImageCodec.Save(gen.Image(i), p); var b = File.ReadAllBytes(p); File.Delete(p); return b; }).ToArray();
var swd = Stopwatch.StartNew();
for (int i = 0; i < count; i++) ImageCodec.Decode(jpegBytes[i % jpegBytes.Length], "bench");
double decodesPerSec = count / swd.Elapsed.TotalSeconds;
Line($"| what | per second | ratio |");
Line("|---|---:|---:|");
Line($"| render a synthetic face (with landmarks, noise, blur) | {F(facesPerSec)} | {F(facesPerSec / decodesPerSec, "F2")}× JPEG decode |");
Line($"| decode a 112×112 JPEG (reference) | {F(decodesPerSec)} | 1× |");
Line();
Line("Reading: the loader must not be the bottleneck — every row of the pipeline table should be above 1× the train step's consumption.");
if (outPath is not null) { AtomicFile.WriteAllText(outPath, md.ToString()); Console.WriteLine($"wrote {outPath}"); }
