using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using FaceDistill.Data;
using FaceDistill.Export;
using FaceDistill.Faces;
using FaceDistill.Models;
using FaceDistill.Models.Heads;
using FaceDistill.Serve;
using static TorchSharp.torch;

namespace FaceDistill.Bench;

/// <summary>
/// The HTTP server's overhead: a bounded load test (a fixed count of <c>POST /v1/embed</c> from several concurrent
/// HttpClient clients, on 127.0.0.1) against the same work done in-process in the same run — the server's own
/// <see cref="ServeWorker"/> (decode, detect, 68 landmarks, align, embed) called directly on batches of the same size.
/// Requests/s, p50/p99 latency, the ratio, and the process's peak resident memory sampled during the load.
/// <c>--serve</c> runs only this section; it needs the face-api weights (<c>facedistill models install</c>).
/// </summary>
public static class ServeBench
{
    private static string F(double v, string f = "F1") => v.ToString(f, CultureInfo.InvariantCulture);

    private static long RssBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:"))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        return 0;
    }

    /// <summary>A face picture for the load: the MIT demo crop of the human reference, pasted into a 360 × 360 grey
    /// canvas (as the server tests do).</summary>
    private static byte[] FaceImage(string repo, string dir)
    {
        var crop = ImageCodec.Load(Path.Combine(repo, "scripts/reference/human/crops/sample1_face0_aligned.png"));
        var canvas = new RgbImage(360, 360);
        Array.Fill(canvas.Pixels, (byte)128);
        for (int y = 0; y < crop.Height; y++)
            Array.Copy(crop.Pixels, y * crop.Width * 3, canvas.Pixels, ((y + 80) * 360 + 70) * 3, crop.Width * 3);
        var path = Path.Combine(dir, "face.png");
        ImageCodec.Save(canvas, path);
        return File.ReadAllBytes(path);
    }

    public static IEnumerable<string> Run(int threads, bool quick, string repo)
    {
        int requests = quick ? 48 : 240,
            clients = 4,
            maxBatch = 8;
        var dir = Path.Combine(Path.GetTempPath(), $"fd-serve-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            manual_seed(1);
            var onnx = Path.Combine(dir, "student.onnx");
            using (var model = new FaceModel(Backbones.Create("iresnet18", 64, 128, 0.25), new SoftmaxHead(128, 2)))
            {
                model.eval();
                OnnxExport.Export(model, FaceTask.Recognition, onnx);
            }
            var image = FaceImage(repo, dir);
            var options = new ServeOptions
            {
                Model = onnx,
                Port = 0,
                MaxBatch = maxBatch,
                QueueCapacity = 4 * clients,
            };
            // the reference: the server's worker in-process, batches of the size the clients can fill; measured before
            // and after the load (the machine drifts), the mean reported
            double InProcessRate()
            {
                using var served = ServedModel.Load(onnx);
                using var zoo = new FaceAnalyzer();
                var worker = new ServeWorker(served, new FacePipeline(zoo, served.InputSize, served.CenterCrop, false));
                var jobs = Enumerable
                    .Range(0, clients)
                    .Select(_ => new ServeJob(JobKind.Embed, image, "face"))
                    .ToList();
                worker.Run(jobs); // warm-up
                int rounds = requests / clients / 2;
                var sw = Stopwatch.StartNew();
                for (int r = 0; r < rounds; r++)
                    if (worker.Run(jobs).Any(j => j.Faces is not { Count: 1 }))
                        throw new InvalidOperationException("the reference run did not find the face");
                return rounds * clients / sw.Elapsed.TotalSeconds;
            }
            double before = InProcessRate();

            var server = FaceServer.StartAsync(options).GetAwaiter().GetResult();
            long rssBefore = RssBytes(),
                rssPeak = rssBefore;
            var latencies = new List<double>();
            double rate;
            int failures = 0;
            try
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
                async Task<bool> One()
                {
                    using var content = new ByteArrayContent(image);
                    content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
                    var sw = Stopwatch.StartNew();
                    using var response = await http.PostAsync(new Uri(server.Address, "/v1/embed"), content);
                    await response.Content.ReadAsByteArrayAsync();
                    lock (latencies)
                        latencies.Add(sw.Elapsed.TotalMilliseconds);
                    return response.IsSuccessStatusCode;
                }
                One().GetAwaiter().GetResult(); // warm-up
                latencies.Clear();
                using var stop = new CancellationTokenSource();
                var sampler = Task.Run(async () =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        rssPeak = Math.Max(rssPeak, RssBytes());
                        await Task.Delay(20);
                    }
                });
                int next = 0;
                var total = Stopwatch.StartNew();
                var loops = Enumerable
                    .Range(0, clients)
                    .Select(_ =>
                        Task.Run(async () =>
                        {
                            while (Interlocked.Increment(ref next) <= requests)
                                if (!await One())
                                    Interlocked.Increment(ref failures);
                        })
                    )
                    .ToArray();
                Task.WaitAll(loops);
                rate = requests / total.Elapsed.TotalSeconds;
                stop.Cancel();
                sampler.Wait();
            }
            finally
            {
                server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            double after = InProcessRate(),
                inProcessRate = (before + after) / 2;
            latencies.Sort();
            double P(double q) => latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
            yield return "## Serving: `facedistill serve` under load";
            yield return "";
            yield return $"{requests} `POST /v1/embed` of a 360 × 360 PNG with one face, from {clients} concurrent "
                + $"HttpClient clients on 127.0.0.1, against the server's own worker (decode, SSD detection, 68 "
                + $"landmarks, ArcFace alignment, embedding) called in-process on batches of {clients} in the same "
                + $"run. Model: an exported IResNet-18 ¼ (64 px, 128-d, random weights) through ONNX Runtime; "
                + $"dynamic batching up to {maxBatch} images, 5 ms wait; {threads} libtorch threads.";
            yield return "";
            yield return "| | requests/s | p50 ms | p99 ms | failed | peak RSS MB (before load) |";
            yield return "|---|---:|---:|---:|---:|---:|";
            yield return $"| HTTP server | {F(rate, "F2")} | {F(P(0.5))} | {F(P(0.99))} | {failures} | "
                + $"{F(rssPeak / 1e6, "F0")} ({F(rssBefore / 1e6, "F0")}) |";
            yield return $"| in-process worker (mean of before: {F(before, "F2")}, after: {F(after, "F2")}) | "
                + $"{F(inProcessRate, "F2")} | — | — | — | — |";
            yield return "";
            yield return $"Server throughput / in-process throughput: **{F(rate / inProcessRate, "F2")}×** (the "
                + "HTTP, multipart-free raw body, JSON and queueing overhead; 1.0 would be none).";
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
