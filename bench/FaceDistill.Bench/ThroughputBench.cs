using System.Diagnostics;
using System.Globalization;
using FaceDistill.Core;
using FaceDistill.Models;
using FaceDistill.Models.Heads;
using static TorchSharp.torch;

namespace FaceDistill.Bench;

/// <summary>
/// Train-step throughput against the CPU's own ceiling, measured side by side in one process: libtorch's plain
/// matmul FLOP/s (the reference), then forward + backward + SGD of MobileFaceNet and IResNet-18 with an ArcFace head
/// over 1000 classes, batch 64, at 64 and 112 px, with oneDNN on and off — the two convolution paths libtorch has on
/// this CPU — each step split into its phases (backbone forward, head + loss, backward, optimizer step).
/// </summary>
public static class ThroughputBench
{
    public sealed record Step(
        string Backbone,
        int Size,
        bool OneDnn,
        double ImagesPerSecond,
        double Fraction,
        double Forward,
        double Head,
        double Backward,
        double Optimizer
    );

    public static double MatmulGflops(int repeats)
    {
        using var a = randn(1024, 1024);
        using var b = randn(1024, 1024);
        for (int i = 0; i < 3; i++)
            a.matmul(b).Dispose();
        var times = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            a.matmul(b).Dispose();
            times.Add(sw.Elapsed.TotalSeconds);
        }
        return 2.0 * 1024 * 1024 * 1024 / Median(times) / 1e9;
    }

    public static IEnumerable<string> Run(bool quick)
    {
        double matmul = MatmulGflops(quick ? 5 : 15);
        yield return $"Plain matmul (1024², same process): **{F(matmul)} GFLOP/s**.";
        yield return "";
        yield return "| backbone | px | oneDNN | images/s | fraction of matmul | forward | head + loss | backward "
            + "| SGD step |";
        yield return "|---|---:|---|---:|---:|---:|---:|---:|---:|";
        foreach (var backbone in new[] { "mobilefacenet", "iresnet18" })
        foreach (var size in new[] { 64, 112 })
        foreach (var oneDnn in new[] { true, false })
        {
            var s = Measure(backbone, size, oneDnn, quick, matmul);
            double total = s.Forward + s.Head + s.Backward + s.Optimizer;
            string P(double v) => $"{v * 1000:F0} ms ({100 * v / total:F0} %)";
            yield return $"| {backbone} | {size} | {(oneDnn ? "on" : "off")} | {F(s.ImagesPerSecond)} | "
                + $"{100 * s.Fraction:F0} % | {P(s.Forward)} | {P(s.Head)} | {P(s.Backward)} | {P(s.Optimizer)} |";
        }
        TorchRuntime.SetMkldnn(true);
        if (Faces.Zoo.ModelZoo.Verify().Count == 0)
            foreach (var l in DistillStep(quick))
                yield return l;
        var lfw = Path.Combine(Directory.GetCurrentDirectory(), "..", "shared", "datasets", "lfw");
        if (File.Exists(Path.Combine(lfw, "pairs.txt")))
            foreach (var l in EvalRate(lfw, quick))
                yield return l;
    }

    /// <summary>The train step in the default (NCHW) layout against channels-last (<see
    /// cref="Backbone.UseChannelsLast"/>: the input re-laid NHWC), on both convolution paths, in one process.</summary>
    public static IEnumerable<string> ChannelsLast(bool quick)
    {
        double mm = MatmulGflops(quick ? 5 : 15);
        yield return $"Plain matmul (1024², same process): **{mm:F1} GFLOP/s**.";
        yield return "";
        yield return "| backbone | px | oneDNN | layout | images/s | fraction of matmul | × NCHW |";
        yield return "|---|---:|---|---|---:|---:|---:|";
        foreach (var (backbone, size) in new[] { ("mobilefacenet", 112), ("mobilefacenet", 64), ("iresnet18", 64) })
        foreach (var oneDnn in new[] { true, false })
        {
            int steps = quick ? 2 : 4;
            var nchw = Measure(backbone, size, oneDnn, steps, mm);
            var nhwc = Measure(backbone, size, oneDnn, steps, mm, channelsLast: true);
            string on = oneDnn ? "on" : "off";
            yield return $"| {backbone} | {size} | {on} | NCHW | {F(nchw.ImagesPerSecond)} | "
                + $"{100 * nchw.Fraction:F0} % | 1.00× |";
            yield return $"| {backbone} | {size} | {on} | channels-last | {F(nhwc.ImagesPerSecond)} | "
                + $"{100 * nhwc.Fraction:F0} % | {nhwc.ImagesPerSecond / nchw.ImagesPerSecond:F2}× |";
        }
        TorchRuntime.SetMkldnn(true);
    }

    /// <summary>The LFW protocol end to end — decode and resize 7,701 images, embed them with flip TTA, score the
    /// 6,000 pairs, ten folds — against the same model's bare batch inference (the same forward passes on a tensor
    /// already in memory), for the recognition students' IResNet-18 ×¼ at 64 px. Once on LFW's 250 × 250 JPEGs, and,
    /// where <c>runs/aligned/lfw</c> exists (the 112-px ArcFace crops the recognition experiments are evaluated on,
    /// written once by their <c>prepare</c> step), once on those; each three ways: decoding every image in the pass (no
    /// store), the first pass with the decoded-image store (<see cref="Data.DecodedImages"/>: its building is part of
    /// the timed pass) and a later pass reading it.</summary>
    public static IEnumerable<string> EvalRate(string lfwDir, bool quick)
    {
        var roots = new List<(string Name, string Dir)> { ("LFW's 250 × 250 JPEGs", Path.Combine(lfwDir, "lfw")) };
        var aligned = Path.Combine(Directory.GetCurrentDirectory(), "runs", "aligned", "lfw");
        if (Directory.Exists(aligned))
            roots.Add(("the 112-px aligned PNG crops (`runs/aligned/lfw`)", aligned));
        manual_seed(1);
        using var net = Backbones.Create("iresnet18", 64, 512, width: 0.25);
        const int batch = 128;
        net.eval();
        using (no_grad())
        using (var warm = rand(batch, 3, 64, 64))
            net.call(warm).Dispose(); // oneDNN's primitives are built once, before either pass is timed
        var protocol = new List<(string Name, double Seconds)>();
        int n = 0,
            pairCount = 0;
        double Protocol(Data.PairList pairs, Func<Data.IFaceDataset> images)
        {
            var sw = Stopwatch.StartNew();
            var emb = Evaluation.Embedder.Embed(net, images(), 1.0, flip: true, batchSize: batch);
            var scores = pairs.Pairs.Select(p => Evaluation.Embedder.Cosine(emb[p.A], emb[p.B])).ToList();
            var result = Evaluation.Verification.Evaluate(
                scores,
                pairs.Pairs.Select(p => p.Same).ToList(),
                pairs.Pairs.Select(p => p.Fold).ToList()
            );
            GC.KeepAlive(result);
            return sw.Elapsed.TotalSeconds;
        }
        foreach (var (name, dir) in roots)
        {
            var pairs = Data.PairList.LoadLfw(Path.Combine(lfwDir, "pairs.txt"), dir);
            n = pairs.Images.Count;
            pairCount = pairs.Pairs.Count;
            protocol.Add(($"{name}: decode, resize, embed, score, 10 folds", Protocol(pairs, () => pairs.Images)));
            // the decoded-image store (Data.DecodedImages), as every run's evaluation pairs use it: built in a fresh
            // folder on the first pass (its decoding timed with the pass), read on the second
            var storeDir = Path.Combine(Path.GetTempPath(), $"facedistill-bench-{Guid.NewGuid():N}");
            Data.DecodedImages? store = null;
            try
            {
                protocol.Add(
                    (
                        $"{name}, first pass: decode into the store, then resize, embed, score",
                        Protocol(
                            pairs,
                            () => (store = Data.DecodedImages.OpenOrBuild(pairs.Images, storeDir)!).Serve(pairs.Images)
                        )
                    )
                );
                protocol.Add(
                    (
                        $"{name}, every later pass: read the store, resize, embed, score",
                        Protocol(pairs, () => store!.Serve(pairs.Images))
                    )
                );
            }
            finally
            {
                store?.Dispose();
                Directory.Delete(storeDir, recursive: true);
            }
        }
        using var x = rand(batch, 3, 64, 64) * 2 - 1;
        var bareSw = Stopwatch.StartNew();
        using (no_grad())
            for (int done = 0; done < n; done += batch)
            {
                using var scope = NewDisposeScope();
                using (NoGcRegion.Enter())
                    nn.functional.normalize(net.call(x) + net.call(x.flip(3)), dim: 1)
                        .contiguous()
                        .data<float>()
                        .ToArray();
            }
        double bare = bareSw.Elapsed.TotalSeconds;
        yield return "";
        yield return $"LFW protocol ({n:N0} images, {pairCount:N0} pairs, IResNet-18 ×¼ at 64 px, flip TTA, "
            + $"batch {batch}):";
        yield return "";
        yield return "| | seconds | images/s | × bare batch inference |";
        yield return "|---|---:|---:|---:|";
        yield return "| bare batch inference (the same passes on an in-memory batch) | "
            + $"{bare:F1} | {n / bare:F0} | 1.00× |";
        foreach (var (name, seconds) in protocol)
            yield return $"| the protocol on {name} | {seconds:F1} | {n / seconds:F0} | {bare / seconds:F2}× |";
    }

    /// <summary>The imported faceres teacher's pass (what building a teacher-output cache over a pool costs), batch 32
    /// at 112 px: TorchSharp against ONNX Runtime, both as the teacher class runs them.</summary>
    public static IEnumerable<string> TeacherPaths(bool quick)
    {
        using var x = rand(32, 3, 112, 112) * 2 - 1;
        double Ms(bool ort)
        {
            Environment.SetEnvironmentVariable("FACEDISTILL_TEACHER_ORT", ort ? "1" : "0");
            using var teacher = Distillation.Teachers.GraphFaceNetTeacher.Load("faceres");
            teacher.Run(x);
            teacher.Run(x);
            var times = new List<double>();
            for (int i = 0; i < (quick ? 3 : 8); i++)
            {
                var sw = Stopwatch.StartNew();
                using (NoGcRegion.Enter())
                    teacher.Run(x);
                times.Add(sw.Elapsed.TotalMilliseconds);
            }
            return Median(times);
        }
        double torchMs = Ms(false),
            ortMs = Ms(true);
        Environment.SetEnvironmentVariable("FACEDISTILL_TEACHER_ORT", null);
        yield return "| zoo:faceres teacher, batch 32 at 112 px | ms | faces/s | × ONNX Runtime |";
        yield return "|---|---:|---:|---:|";
        yield return $"| TorchSharp (`FACEDISTILL_TEACHER_ORT=0`) | {torchMs:F0} | {32000 / torchMs:F0} | "
            + $"{ortMs / torchMs:F2}× |";
        yield return $"| ONNX Runtime (the default) | {ortMs:F0} | {32000 / ortMs:F0} | 1.00× |";
    }

    /// <summary>Feature KD from <c>zoo:recognition</c> into MobileFaceNet at 64 px, batch 64: the plain student step
    /// (the same loss against a fixed target), the step with the teacher's outputs read from the memory-mapped cache,
    /// and with the teacher run online; in the default layout and channels-last (the layout the convolution probe
    /// picks for this student on the hosts measured so far). The three kinds of step are timed in turn within each
    /// round, so drift of the host's speed during the run falls on all three alike.</summary>
    public static IEnumerable<string> DistillStep(bool quick)
    {
        using var teacher = Distillation.Teachers.ZooTeacher.Load("recognition");
        var dir = Path.Combine(Path.GetTempPath(), $"fd-cache-{Guid.NewGuid():N}");
        var data = new Data.Synthetic.SyntheticFaces(
            new Data.Synthetic.SyntheticOptions
            {
                Identities = 16,
                ImagesPerIdentity = 4,
                Size = 64,
                Seed = 9,
            }
        );
        var loaderOptions = new Data.DataLoaderOptions
        {
            BatchSize = 64,
            ImageSize = 64,
            Workers = 1,
        };
        var rows = new List<string>();
        try
        {
            using var cache = Distillation.Teachers.TeacherOutputCache.OpenOrBuild(
                teacher,
                "bench",
                data,
                loaderOptions,
                dir
            );
            var indices = Enumerable.Range(0, 64).ToArray();
            foreach (bool channelsLast in new[] { false, true })
            {
                manual_seed(1);
                using var student = Backbones.Create("mobilefacenet", 64, 128);
                if (channelsLast)
                    student.UseChannelsLast();
                using var proj = nn.Linear(128, 128);
                using var opt = optim.SGD(student.parameters().Concat(proj.parameters()).ToList(), 0.01, 0.9);
                using var x = rand(64, 3, 64, 64) * 2 - 1;
                using var fixedTarget = randn(64, 128);
                student.train();
                double StepMs(Func<Tensor> target)
                {
                    var sw = Stopwatch.StartNew();
                    using (NoGcRegion.Enter())
                    {
                        using (var scope = NewDisposeScope())
                        {
                            var t = target();
                            var loss = (1 - nn.functional.cosine_similarity(proj.call(student.call(x)), t)).mean();
                            opt.zero_grad();
                            loss.backward();
                        }
                        opt.step();
                    }
                    return sw.Elapsed.TotalMilliseconds;
                }
                var targets = new Func<Tensor>[]
                {
                    () => fixedTarget.alias(),
                    () => cache.Rows(indices).Embedding!,
                    () => teacher.Run(x).Embedding!,
                };
                var times = targets.Select(_ => new List<double>()).ToArray();
                for (int round = 0; round < (quick ? 4 : 12) + 1; round++)
                for (int k = 0; k < targets.Length; k++)
                {
                    double ms = StepMs(targets[k]);
                    if (round > 0) // the first round builds oneDNN's primitives
                        times[k].Add(ms);
                }
                double plain = Median(times[0]),
                    cached = Median(times[1]),
                    online = Median(times[2]);
                string layout = channelsLast ? "channels-last" : "NCHW";
                rows.Add($"| {layout} | none (plain student step, fixed target) | {plain:F0} | 1.00× |");
                rows.Add($"| {layout} | read from the memory-mapped cache | {cached:F0} | {plain / cached:F2}× |");
                rows.Add($"| {layout} | teacher run online every step | {online:F0} | {plain / online:F2}× |");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        yield return "";
        yield return "Distillation step (feature KD from `zoo:recognition`, 150 px teacher, into MobileFaceNet at "
            + "64 px, batch 64; medians, the three steps timed in turn each round):";
        yield return "";
        yield return "| student layout | teacher outputs | ms per step | × the plain student step's speed |";
        yield return "|---|---|---:|---:|";
        foreach (var r in rows)
            yield return r;
    }

    public static Step Measure(string backbone, int size, bool oneDnn, bool quick, double matmulGflops) =>
        Measure(
            backbone,
            size,
            oneDnn,
            quick ? 2
                : backbone == "mobilefacenet" ? 5
                : 2,
            matmulGflops
        );

    public static Step Measure(
        string backbone,
        int size,
        bool oneDnn,
        int steps,
        double matmulGflops,
        bool channelsLast = false
    )
    {
        TorchRuntime.SetMkldnn(oneDnn);
        manual_seed(1);
        using var net = Backbones.Create(backbone, size, backbone == "mobilefacenet" ? 128 : 512);
        var stats = ModelStats.Measure(net);
        if (channelsLast)
            net.UseChannelsLast();
        using var head = CombinedMarginHead.ArcFace(net.EmbeddingSize, 1000);
        var ps = net.parameters().Concat(head.parameters()).ToList();
        using var opt = optim.SGD(ps, 0.01, 0.9);
        using var x = randn(64, 3, size, size);
        using var y = randint(0, 1000, 64);
        net.train();
        var fwd = new List<double>();
        var hd = new List<double>();
        var bwd = new List<double>();
        var upd = new List<double>();
        for (int i = 0; i < steps + 1; i++)
        {
            var sw = Stopwatch.StartNew();
            double t0,
                t1,
                t2;
            using (NoGcRegion.Enter())
            {
                using (var scope = NewDisposeScope())
                {
                    var emb = net.call(x);
                    t0 = sw.Elapsed.TotalSeconds;
                    var loss = head.Loss(head.call(emb, y), y);
                    t1 = sw.Elapsed.TotalSeconds;
                    opt.zero_grad();
                    loss.backward();
                    t2 = sw.Elapsed.TotalSeconds;
                }
                opt.step();
            }
            if (i == 0)
                continue; // the first step warms up (oneDNN primitives, allocator)
            fwd.Add(t0);
            hd.Add(t1 - t0);
            bwd.Add(t2 - t1);
            upd.Add(sw.Elapsed.TotalSeconds - t2);
        }
        double step = Median(fwd) + Median(hd) + Median(bwd) + Median(upd);
        double flops = 3 * stats.Flops * 64; // forward + backward (≈ 2 × forward)
        return new Step(
            backbone,
            size,
            oneDnn,
            64 / step,
            flops / step / 1e9 / matmulGflops,
            Median(fwd),
            Median(hd),
            Median(bwd),
            Median(upd)
        );
    }

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToList();
        return s[s.Count / 2];
    }

    private static string F(double v) => v.ToString("F1", CultureInfo.InvariantCulture);
}
