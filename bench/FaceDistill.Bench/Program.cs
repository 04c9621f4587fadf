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
// One section alone (append its output to docs/benchmarks.md by hand): --onnx (exported models: ONNX Runtime vs
// TorchSharp only); --mining (omni-supervised mining of a 5.8 M-face store); --teachers (the imported faceres
// teacher); --frontend (the front end's stages per photo); --serve (the HTTP server under load, from the repository
// root); --scalar-race (the reproduction of libtorch's intermittent error, docs/platform-notes.md); --throughput (train
// steps against matmul, oneDNN on and off, the phases of a step); --distill-step (a distillation step with the teacher
// cached or online against the plain student step, both layouts)
var argsList = args.ToList();
string? outPath = argsList.IndexOf("--out") is var oi && oi >= 0 && oi + 1 < argsList.Count ? argsList[oi + 1] : null;
bool quick = argsList.Contains("--quick");
int threads = Environment.ProcessorCount;
set_num_threads(threads);
TorchRuntime.EnsureInitialized();
var md = new StringBuilder();
void Line(string s = "")
{
    Console.WriteLine(s);
    md.AppendLine(s);
}

// One section of docs/benchmarks.md on its own (appended there by hand, with the command it prints); a section's
// lines come from its bench class.
bool Section(string flag, Func<IEnumerable<string>> lines, string? header = null)
{
    if (!argsList.Contains(flag))
        return false;
    Line(
        $"Measured {DateTime.UtcNow:yyyy-MM-dd} on {Environment.ProcessorCount} CPU cores{header}; command: "
            + $"`dotnet run --project bench/FaceDistill.Bench -c Release -- {flag}{(quick ? " --quick" : "")}`"
    );
    Line();
    foreach (var l in lines())
        Line(l);
    if (outPath is not null)
    {
        AtomicFile.WriteAllText(outPath, md.ToString());
        Console.WriteLine($"wrote {outPath}");
    }
    return true;
}
double raceSeconds = quick ? 10 : 40;
if (
    Section("--mining", () => FaceDistill.Bench.MiningBench.Run(quick))
    || Section("--teachers", () => FaceDistill.Bench.TeacherBench.Run(threads, quick))
    || Section("--frontend", () => FaceDistill.Bench.FrontEndBench.Run(threads, quick))
    || Section("--serve", () => FaceDistill.Bench.ServeBench.Run(threads, quick, Directory.GetCurrentDirectory()))
    || Section("--throughput", () => FaceDistill.Bench.ThroughputBench.Run(quick), $", libtorch threads {threads}")
    || Section(
        "--scalar-race",
        () =>
        {
            set_num_threads(1); // the reproduction of the intermittent libtorch error (docs/platform-notes.md)
            return FaceDistill.Bench.ScalarRaceBench.Run(raceSeconds);
        },
        $", {raceSeconds:F0} s per mode"
    )
    || Section(
        "--eval-rate",
        () =>
            FaceDistill.Bench.ThroughputBench.EvalRate(
                Path.Combine(Directory.GetCurrentDirectory(), "..", "shared", "datasets", "lfw"),
                quick
            )
    )
    || Section("--onnx", () => FaceDistill.Bench.OnnxBench.Run(threads, quick))
    || Section("--channels-last", () => FaceDistill.Bench.ThroughputBench.ChannelsLast(quick))
    || Section("--teacher-paths", () => FaceDistill.Bench.ThroughputBench.TeacherPaths(quick))
    || Section("--distill-step", () => FaceDistill.Bench.ThroughputBench.DistillStep(quick))
)
    return;
if (argsList.IndexOf("--profile-steps") is var pi && pi >= 0)
{
    // a loop of train steps to run under a native profiler (perf record; docs/benchmarks.md has the command)
    var backbone = argsList[pi + 1];
    int size = int.Parse(argsList[pi + 2], CultureInfo.InvariantCulture);
    int steps = int.Parse(argsList[pi + 3], CultureInfo.InvariantCulture);
    double mm = FaceDistill.Bench.ThroughputBench.MatmulGflops(15);
    bool nhwc = argsList.Contains("--nhwc"); // the backbone's input channels-last (Backbone.UseChannelsLast)
    var s = FaceDistill.Bench.ThroughputBench.Measure(backbone, size, TorchRuntime.MkldnnEnabled, steps, mm, nhwc);
    Console.WriteLine(
        $"{backbone} {size} px{(nhwc ? " channels-last" : "")}: {s.ImagesPerSecond:F1} images/s over {steps} steps, "
            + $"{100 * s.Fraction:F0} % of "
            + $"matmul ({mm:F0} GFLOP/s), heap kept: {TorchRuntime.HeapKept}"
    );
    return;
}
string F(double v, string f = "F1") => v.ToString(f, CultureInfo.InvariantCulture);

static double Median(List<double> xs)
{
    xs.Sort();
    return xs[xs.Count / 2];
}

// 1. matmul reference
double MatmulGflops() => FaceDistill.Bench.ThroughputBench.MatmulGflops(quick ? 5 : 15);

// 2. train step: forward + backward + SGD step, batch 64, 112×112, ArcFace head over 1000 classes
(double ImagesPerSecond, ModelStats Stats) TrainStep(string backbone)
{
    manual_seed(1);
    using var net = Backbones.Create(backbone, 112, backbone == "mobilefacenet" ? 128 : 512);
    var stats = ModelStats.Measure(net);
    using var head = CombinedMarginHead.ArcFace(net.EmbeddingSize, 1000);
    var ps = net.parameters().Concat(head.parameters()).ToList();
    using var opt = optim.SGD(ps, 0.01, 0.9);
    using var x = randn(64, 3, 112, 112);
    using var y = randint(0, 1000, 64);
    net.train();
    var times = new List<double>();
    int steps =
        quick ? 2
        : backbone == "mobilefacenet" ? 6
        : 3;
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
        if (i > 0)
            times.Add(sw.Elapsed.TotalSeconds); // the first step warms up
    }
    return (64 / Median(times), stats);
}

// 3. data pipeline: decode + augment (+ render for synthetic) into batches, as the trainer consumes them
double LoaderRate(IFaceDataset data, int workers)
{
    var loader = new DataLoader(
        data,
        new DataLoaderOptions
        {
            BatchSize = 64,
            ImageSize = 112,
            Workers = workers,
            Seed = 1,
            Augment = new AugmentOptions
            {
                Flip = true,
                ScaleMin = 0.9,
                ScaleMax = 1,
                Shift = 0.04,
                Brightness = 0.2,
                Contrast = 0.2,
                Saturation = 0.2,
            },
        }
    );
    var sw = Stopwatch.StartNew();
    int n = 0;
    foreach (var b in loader.Epoch(0))
        n += b.Count;
    return n / sw.Elapsed.TotalSeconds;
}

Line("# Benchmarks");
Line();
Line(
    $"Measured {DateTime.UtcNow:yyyy-MM-dd} on {Environment.ProcessorCount} CPU cores "
        + $"({System.Runtime.InteropServices.RuntimeInformation.OSDescription}), "
        + $"libtorch threads {threads}, TorchSharp 0.107 (libtorch 2.10 CPU), oneDNN "
        + $"{(TorchRuntime.MkldnnEnabled ? "on" : "off")} (ISA capped at {TorchRuntime.OneDnnMaxIsa}), NNPACK off."
);
Line(
    $"Command: `dotnet run --project bench/FaceDistill.Bench -c Release -- --out "
        + $"docs/benchmarks.md{(quick ? " --quick" : "")}{(argsList.Contains("--js") ? " --js bench_wasm.json" : "")}`"
        + (
            argsList.Contains("--js")
                ? " after `BACKEND=wasm node bench.js 15 > bench_wasm.json` in a copy of "
                    + "`../shared/reference/faceapi` with `npm ci` done."
                : ""
        )
);
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
    Line(
        $"| {b} | {F(st.Parameters / 1e6, "F2")} | {F(st.Flops / 1e9, "F3")} | {F(ips)} | {F(achieved)} | "
            + $"{F(achieved / gflops, "P0")} |"
    );
}
Line();
TorchRuntime.SetMkldnn(false);
var (mfnOff, _) = TrainStep("mobilefacenet");
TorchRuntime.SetMkldnn(true);
Line(
    $"With oneDNN switched off altogether (`FACEDISTILL_MKLDNN=0`, see docs/platform-notes.md): mobilefacenet "
        + $"{F(mfnOff)} images/s "
        + $"({F(mfnOff / rates["mobilefacenet"], "F2")}× the default)."
);
Line();

Line("## Data pipeline (decode/render + augment to 112×112 batches of 64)");
Line();
var synth = new SyntheticFaces(
    new SyntheticOptions
    {
        Identities = quick ? 16 : 40,
        ImagesPerIdentity = 16,
        Size = 112,
    }
);
var tmp = Path.Combine(Path.GetTempPath(), $"facedistill-bench-{Guid.NewGuid():N}");
int nFiles = quick ? 256 : 640;
for (int i = 0; i < nFiles; i++)
    ImageCodec.Save(synth.Image(i % synth.Count), Path.Combine(tmp, $"c{i % 8}", $"{i}.jpg"));
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
var gen = new SyntheticFaces(
    new SyntheticOptions
    {
        Identities = 50,
        ImagesPerIdentity = 20,
        Size = 112,
        Seed = 3,
    }
);
int count = quick ? 200 : 600;
var swg = Stopwatch.StartNew();
for (int i = 0; i < count; i++)
    gen.Image(i);
double facesPerSec = count / swg.Elapsed.TotalSeconds;
var jpegBytes = Enumerable
    .Range(0, 50)
    .Select(i =>
    {
        var p = Path.Combine(Path.GetTempPath(), $"fd-{Guid.NewGuid():N}.jpg");
        ImageCodec.Save(gen.Image(i), p);
        var b = File.ReadAllBytes(p);
        File.Delete(p);
        return b;
    })
    .ToArray();
var swd = Stopwatch.StartNew();
for (int i = 0; i < count; i++)
    ImageCodec.Decode(jpegBytes[i % jpegBytes.Length], "bench");
double decodesPerSec = count / swd.Elapsed.TotalSeconds;
Line($"| what | per second | ratio |");
Line("|---|---:|---:|");
Line(
    $"| render a synthetic face (with landmarks, noise, blur) | {F(facesPerSec)} | "
        + $"{F(facesPerSec / decodesPerSec, "F2")}× JPEG decode |"
);
Line($"| decode a 112×112 JPEG (reference) | {F(decodesPerSec)} | 1× |");
Line();
Line(
    "Reading: the loader must not be the bottleneck — every row of the pipeline table should be above 1× the train "
        + "step's consumption."
);
Line();

// 5. Teacher zoo: per-face latency of each TorchSharp port against the original face-api (tfjs wasm backend, SIMD, one
// thread) measured by ../shared/reference/faceapi/bench.js in the same session, passed as --js <bench.json>.
if (FaceDistill.Faces.Zoo.ModelZoo.Verify().Count == 0)
{
    string? jsPath = argsList.IndexOf("--js") is var ji && ji >= 0 && ji + 1 < argsList.Count ? argsList[ji + 1] : null;
    System.Text.Json.JsonElement? js =
        jsPath is not null && File.Exists(jsPath)
            ? System.Text.Json.JsonDocument.Parse(File.ReadAllText(jsPath)).RootElement
            : null;
    Line("## Teacher zoo: the ports against the original face-api");
    Line();
    Line(
        $"Median of {(quick ? 5 : 15)} forward passes, batch 1, fixed pattern input, {threads} libtorch threads; the "
            + $"JavaScript column is "
            + "`BACKEND=wasm node bench.js 15` in `../shared/reference/faceapi` (tfjs 4.22 wasm, SIMD, 1 thread) run "
            + "in the same session"
            + (js is null ? " — **not run this time** (pass `--js bench.json`)." : ".")
    );
    Line();
    Line("| net (input) | port ms | face-api wasm ms | port speed-up |");
    Line("|---|---:|---:|---:|");
    double Time(Action a)
    {
        a();
        a();
        var ts = new List<double>();
        for (int i = 0; i < (quick ? 5 : 15); i++)
        {
            var sw = Stopwatch.StartNew();
            a();
            ts.Add(sw.Elapsed.TotalMilliseconds);
        }
        return Median(ts);
    }
    using var zoo = new FaceDistill.Faces.FaceAnalyzer();
    using var tinyLm = FaceDistill.Faces.Zoo.FaceLandmark68Net.Load(tiny: true);
    Tensor Pat(int size, FaceDistill.Faces.Zoo.ZooNormalization n) =>
        FaceDistill.Faces.Zoo.NetInput.ToBatch([FaceDistill.Faces.ReferenceCheck.Pattern(size)], size, n);
    using var p150 = Pat(150, FaceDistill.Faces.Zoo.ZooNormalization.FaceMean);
    using var p112 = Pat(112, FaceDistill.Faces.Zoo.ZooNormalization.FaceMean);
    using var p416 = Pat(416, FaceDistill.Faces.Zoo.ZooNormalization.TinyDetectorMean);
    using var p512 = Pat(512, FaceDistill.Faces.Zoo.ZooNormalization.Ssd);
    var cases = new (string Name, string JsKey, Action Run)[]
    {
        ("recognition (150)", "faceRecognitionNet_150", () => zoo.Recognition.Forward(p150).Dispose()),
        ("landmark68 (112)", "faceLandmark68Net_112", () => zoo.Landmarks.Forward(p112).Dispose()),
        ("landmark68 tiny (112)", "faceLandmark68TinyNet_112", () => tinyLm.Forward(p112).Dispose()),
        ("expression (112)", "faceExpressionNet_112", () => zoo.Expression.Forward(p112).Dispose()),
        (
            "age/gender (112)",
            "ageGenderNet_112",
            () =>
            {
                var (a, g) = zoo.AgeGender.Forward(p112);
                a.Dispose();
                g.Dispose();
            }
        ),
        ("tiny face detector (416)", "tinyFaceDetector_416", () => zoo.Tiny.Forward(p416).Dispose()),
        (
            "SSD MobileNetV1 (512)",
            "ssdMobilenetv1_512",
            () =>
            {
                var (a, b) = zoo.Ssd.Forward(p512);
                a.Dispose();
                b.Dispose();
            }
        ),
    };
    foreach (var (name, key, run) in cases)
    {
        double ms = Time(run);
        double? j = js?.TryGetProperty(key, out var e) == true ? e.GetProperty("median_ms").GetDouble() : null;
        Line(
            $"| {name} | {F(ms)} | {(j is null ? "–" : F(j.Value))} | "
                + $"{(j is null ? "–" : F(j.Value / ms, "F1") + "×")} |"
        );
    }
    var sample = Path.Combine(
        AppContext.BaseDirectory,
        "../../../../../../shared/reference/faceapi/refs_cpu/images/sample1.png"
    );
    if (File.Exists(sample))
    {
        var img = ImageCodec.Load(sample);
        double ms = Time(() => zoo.Analyze(img));
        double? j = js?.TryGetProperty("full_pipeline_sample1_ms", out var e) == true ? e.GetDouble() : null;
        Line(
            $"| full pipeline, sample1 (3 faces: SSD, landmarks, expression, age/gender, descriptor) | {F(ms)} | "
                + $"{(j is null ? "–" : F(j.Value))} | {(j is null ? "–" : F(j.Value / ms, "F1") + "×")} |"
        );
    }
    Line();

    // Teacher-output cache: one distillation step (student train step + teacher) online vs cached.
    Line("## Teacher-output cache");
    Line();
    manual_seed(1);
    using var student = Backbones.Create("mobilefacenet", 64, 128);
    using var proj = nn.Linear(128, 128);
    using var sopt = optim.SGD(student.parameters().Concat(proj.parameters()).ToList(), 0.01, 0.9);
    using var xb = rand(64, 3, 64, 64) * 2 - 1;
    using var teacher = FaceDistill.Distillation.Teachers.ZooTeacher.Load("recognition");
    var cacheDir = Path.Combine(Path.GetTempPath(), $"fd-cache-{Guid.NewGuid():N}");
    var cacheData = new SyntheticFaces(
        new SyntheticOptions
        {
            Identities = 16,
            ImagesPerIdentity = 4,
            Size = 64,
            Seed = 9,
        }
    );
    using var cache = FaceDistill.Distillation.Teachers.TeacherOutputCache.OpenOrBuild(
        teacher,
        "bench",
        cacheData,
        new DataLoaderOptions
        {
            BatchSize = 64,
            ImageSize = 64,
            Workers = 1,
        },
        cacheDir
    );
    var indices = Enumerable.Range(0, 64).ToArray();
    double Step(bool cached)
    {
        student.train();
        return Time(() =>
        {
            using var scope = NewDisposeScope();
            var t = cached ? cache.Rows(indices).Embedding! : teacher.Run(xb).Embedding!;
            var loss = (1 - nn.functional.cosine_similarity(proj.call(student.call(xb)), t)).mean();
            sopt.zero_grad();
            loss.backward();
            sopt.step();
        });
    }
    double onlineMs = Step(false),
        cachedMs = Step(true);
    Line(
        "Feature KD from `zoo:recognition` (150×150 teacher) into MobileFaceNet at 64×64, batch 64, one step = "
            + "student forward/backward/SGD + teacher outputs:"
    );
    Line();
    Line("| teacher outputs | ms per step | epoch speed-up |");
    Line("|---|---:|---:|");
    Line($"| run online every step | {F(onlineMs)} | 1× |");
    Line($"| read from the memory-mapped cache | {F(cachedMs)} | {F(onlineMs / cachedMs, "F2")}× |");
    Directory.Delete(cacheDir, recursive: true);
}
else
    Line("(Teacher zoo not installed: `facedistill models install`; zoo benchmarks skipped.)");
if (outPath is not null)
{
    AtomicFile.WriteAllText(outPath, md.ToString());
    Console.WriteLine($"wrote {outPath}");
}
