using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Evaluation;
using FaceDistill.Serve;

namespace FaceDistill.Tests;

/// <summary>A tiny trained run and a face picture (the MIT demo crop of the human reference, padded so that the
/// detector sees a whole head), shared by the server tests.</summary>
public sealed class ServeFixture : IDisposable
{
    public string Root { get; } = TestUtil.TempDir();
    public string RunDir { get; }
    public byte[] Face { get; }
    public byte[] Blank { get; }

    public ServeFixture()
    {
        var cfg = TestUtil.Tiny("serve-run", epochs: 1);
        TrainingRun.Execute(cfg, Root, ExistingRun.Refuse);
        RunDir = Path.Combine(Root, "serve-run");
        var crop = ImageCodec.Load(
            Path.Combine(RepoPaths.Root(), "scripts/reference/human/crops/sample1_face0_aligned.png")
        );
        var canvas = new RgbImage(360, 360);
        Array.Fill(canvas.Pixels, (byte)128);
        for (int y = 0; y < crop.Height; y++)
            Array.Copy(crop.Pixels, y * crop.Width * 3, canvas.Pixels, ((y + 80) * 360 + 70) * 3, crop.Width * 3);
        Face = Png(canvas);
        var blank = new RgbImage(200, 200);
        Array.Fill(blank.Pixels, (byte)90);
        Blank = Png(blank);
    }

    private byte[] Png(RgbImage img)
    {
        var path = Path.Combine(Root, $"{Guid.NewGuid():N}.png");
        ImageCodec.Save(img, path);
        return File.ReadAllBytes(path);
    }

    public ServeOptions Options(int queue = 16, int maxBatch = 8) =>
        new()
        {
            Model = RunDir,
            Port = 0,
            QueueCapacity = queue,
            MaxBatch = maxBatch,
            MaxBodyBytes = 1 << 20,
        };

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

/// <summary>The real server on 127.0.0.1 and a random port, driven over HTTP.</summary>
public class ServeTests(ServeFixture fx) : IClassFixture<ServeFixture>
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(60) };

    private static MultipartFormDataContent Form(params (string Name, byte[] Bytes)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, bytes) in files)
        {
            var c = new ByteArrayContent(bytes);
            c.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(c, name, $"{name}.png");
        }
        return form;
    }

    private static ByteArrayContent Raw(byte[] bytes, string type)
    {
        var c = new ByteArrayContent(bytes);
        c.Headers.ContentType = new MediaTypeHeaderValue(type);
        return c;
    }

    private static async Task<(HttpStatusCode Status, JsonElement Json, HttpResponseMessage Response)> Post(
        Uri server,
        string path,
        HttpContent content,
        string? key = null,
        bool expectContinue = false
    )
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server, path)) { Content = content };
        // a client that may be refused a large body asks first (Expect: 100-continue), as curl does: the server answers
        // 413 before the body is sent; sending it anyway races the server closing the connection (a broken pipe)
        if (expectContinue)
            request.Headers.ExpectContinue = true;
        if (key is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone(), response);
    }

    private static float[] Embedding(JsonElement face) =>
        face.GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();

    [ZooFact]
    public async Task EmbedFindsTheFaceAndGivesAUnitEmbeddingTheSameForAFormAndARawBody()
    {
        await using var server = await FaceServer.StartAsync(fx.Options());
        Assert.Equal("127.0.0.1", server.Address.Host);
        var (status, json, _) = await Post(server.Address, "/v1/embed", Form(("image", fx.Face)));
        Assert.Equal(HttpStatusCode.OK, status);
        var faces = json.GetProperty("faces").EnumerateArray().ToList();
        var face = Assert.Single(faces);
        var box = face.GetProperty("box");
        // the face was pasted at (70, 80), 217 × 199
        Assert.InRange(box.GetProperty("x").GetDouble() + box.GetProperty("width").GetDouble() / 2, 120, 230);
        Assert.InRange(box.GetProperty("y").GetDouble() + box.GetProperty("height").GetDouble() / 2, 120, 240);
        Assert.Equal(5, face.GetProperty("landmarks").GetArrayLength());
        var e = Embedding(face);
        Assert.Equal(server.Model.EmbeddingSize, e.Length);
        Assert.Equal(1.0, Math.Sqrt(e.Sum(v => (double)v * v)), 4);

        var (rawStatus, rawJson, _) = await Post(server.Address, "/v1/embed", Raw(fx.Face, "image/png"));
        Assert.Equal(HttpStatusCode.OK, rawStatus);
        Assert.Equal(e, Embedding(rawJson.GetProperty("faces")[0]));

        var (blankStatus, blankJson, _) = await Post(server.Address, "/v1/embed", Raw(fx.Blank, "image/png"));
        Assert.Equal(HttpStatusCode.OK, blankStatus);
        Assert.Equal(0, blankJson.GetProperty("faces").GetArrayLength());
    }

    [ZooFact]
    public async Task VerifyScoresTwoImagesAtTheRunsCalibratedThreshold()
    {
        await using var server = await FaceServer.StartAsync(fx.Options());
        var cal = Calibration.Load(fx.RunDir)!;
        var (status, json, _) = await Post(server.Address, "/v1/verify", Form(("a", fx.Face), ("b", fx.Face)));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1.0, json.GetProperty("score").GetDouble(), 4);
        Assert.Equal(cal.Threshold, json.GetProperty("threshold").GetDouble());
        Assert.Equal(cal.Far, json.GetProperty("far").GetDouble());
        Assert.Equal(json.GetProperty("score").GetDouble() > cal.Threshold, json.GetProperty("same").GetBoolean());

        var (noFace, noFaceJson, _) = await Post(server.Address, "/v1/verify", Form(("a", fx.Face), ("b", fx.Blank)));
        Assert.Equal(HttpStatusCode.OK, noFace);
        Assert.Equal(JsonValueKind.Null, noFaceJson.GetProperty("same").ValueKind);
        Assert.Contains("no face in image b", noFaceJson.GetProperty("note").GetString());

        var (raw, rawJson, _) = await Post(server.Address, "/v1/verify", Raw(fx.Face, "image/png"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, raw);
        Assert.Contains("a and b", rawJson.GetProperty("error").GetString());
    }

    [ZooFact]
    public async Task BadInputIsAStatusAndAOneLineJsonErrorNeverACrash()
    {
        await using var server = await FaceServer.StartAsync(fx.Options());
        async Task<string> Expect(HttpStatusCode want, string path, HttpContent content)
        {
            var (status, json, _) = await Post(
                server.Address,
                path,
                content,
                expectContinue: want == HttpStatusCode.RequestEntityTooLarge
            );
            Assert.Equal(want, status);
            var error = json.GetProperty("error").GetString()!;
            Assert.DoesNotContain('\n', error);
            Assert.DoesNotContain("   at ", error);
            return error;
        }
        await Expect(HttpStatusCode.UnsupportedMediaType, "/v1/embed", Raw("hello"u8.ToArray(), "text/plain"));
        Assert.Contains(
            "not a decodable image",
            await Expect(HttpStatusCode.BadRequest, "/v1/embed", Raw("hello"u8.ToArray(), "image/png"))
        );
        var truncated = fx.Face[..(fx.Face.Length / 2)];
        Assert.Contains("truncated", await Expect(HttpStatusCode.BadRequest, "/v1/embed", Form(("image", truncated))));
        Assert.Contains(
            "30000×30000",
            await Expect(
                HttpStatusCode.BadRequest,
                "/v1/analyze",
                Raw(InputHardeningTests.PngBomb(30_000), "image/png")
            )
        );
        await Expect(HttpStatusCode.RequestEntityTooLarge, "/v1/embed", Raw(new byte[2 << 20], "image/png"));
        await Expect(
            HttpStatusCode.BadRequest,
            "/v1/embed",
            new MultipartFormDataContent { { new StringContent("x"), "note" } }
        );
        Assert.Contains(
            "no such endpoint",
            await Expect(HttpStatusCode.NotFound, "/v2/embed", Raw(fx.Face, "image/png"))
        );
        // a multipart type with no boundary, and a form whose boundary never comes
        Assert.Contains(
            "malformed multipart",
            await Expect(HttpStatusCode.BadRequest, "/v1/embed", Raw(fx.Face, "multipart/form-data"))
        );
        var wrong = new ByteArrayContent(
            "--other\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nx"u8.ToArray()
        );
        wrong.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=expected");
        Assert.Contains("malformed multipart", await Expect(HttpStatusCode.BadRequest, "/v1/embed", wrong));
        Assert.Contains("use GET", await Expect(HttpStatusCode.MethodNotAllowed, "/metrics", Raw([1], "image/png")));
        // the server still answers, and decodes by content whatever image type the body claims
        var (ok, _, _) = await Post(server.Address, "/v1/embed", Raw(fx.Face, "image/png"));
        Assert.Equal(HttpStatusCode.OK, ok);
        var (gif, _, _) = await Post(server.Address, "/v1/embed", Raw(fx.Face, "image/gif"));
        Assert.Equal(HttpStatusCode.OK, gif);
    }

    [ZooFact]
    public async Task AFullQueueAnswers503WithRetryAfterAndEveryOtherRequestSucceeds()
    {
        await using var server = await FaceServer.StartAsync(fx.Options(queue: 1, maxBatch: 1));
        var answers = await Task.WhenAll(
            Enumerable.Range(0, 24).Select(_ => Post(server.Address, "/v1/analyze", Raw(fx.Face, "image/png")))
        );
        var busy = answers.Where(a => a.Status == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.NotEmpty(busy);
        Assert.All(
            busy,
            b => Assert.Equal(ServeHandlers.RetryAfterSeconds.ToString(), b.Response.Headers.RetryAfter?.ToString())
        );
        Assert.All(
            answers,
            a => Assert.Contains(a.Status, new[] { HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable })
        );
        Assert.Contains(answers, a => a.Status == HttpStatusCode.OK);
        Assert.Equal(1, answers.First(a => a.Status == HttpStatusCode.OK).Json.GetProperty("faces").GetArrayLength());
    }

    [ZooFact]
    public async Task MetricsAreInThePrometheusFormatAndTheOpenApiDocumentListsTheEndpoints()
    {
        await using var server = await FaceServer.StartAsync(fx.Options());
        await Post(server.Address, "/v1/embed", Raw(fx.Face, "image/png"));
        await Post(server.Address, "/v1/embed", Raw("x"u8.ToArray(), "image/png"));
        var metrics = await Http.GetStringAsync(new Uri(server.Address, "/metrics"));
        Assert.Contains("facedistill_requests_total{", metrics);
        Assert.Matches(
            "facedistill_requests_total\\{[^}]*endpoint=\"/v1/embed\"[^}]*status=\"200\"[^}]*\\} 1",
            metrics
        );
        Assert.Matches(
            "facedistill_requests_total\\{[^}]*endpoint=\"/v1/embed\"[^}]*status=\"400\"[^}]*\\} 1",
            metrics
        );
        Assert.Contains("facedistill_request_duration_seconds_bucket{", metrics);
        Assert.Contains("facedistill_batch_size_bucket{", metrics);
        Assert.Contains("facedistill_queue_depth{", metrics);
        var openapi = JsonDocument.Parse(await Http.GetStringAsync(new Uri(server.Address, "/openapi.json")));
        var paths = openapi.RootElement.GetProperty("paths");
        foreach (var p in new[] { "/v1/embed", "/v1/verify", "/v1/analyze", "/healthz" })
            Assert.True(paths.TryGetProperty(p, out _), p);
        var health = JsonDocument.Parse(await Http.GetStringAsync(new Uri(server.Address, "/healthz"))).RootElement;
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.True(health.GetProperty("calibrated").GetBoolean());
    }

    [ZooFact]
    public async Task AnApiKeyIsCheckedOnEveryRequest()
    {
        var keyFile = Path.Combine(fx.Root, "key.txt");
        const string key = "0123456789abcdef-secret";
        File.WriteAllText(keyFile, key + "\n");
        await using var server = await FaceServer.StartAsync(fx.Options() with { ApiKeyFile = keyFile });
        var (none, noneJson, _) = await Post(server.Address, "/v1/embed", Raw(fx.Face, "image/png"));
        Assert.Equal(HttpStatusCode.Unauthorized, none);
        Assert.Contains("API key", noneJson.GetProperty("error").GetString());
        var (wrong, _, _) = await Post(server.Address, "/v1/embed", Raw(fx.Face, "image/png"), key + "x");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong);
        var (right, _, _) = await Post(server.Address, "/v1/embed", Raw(fx.Face, "image/png"), key);
        Assert.Equal(HttpStatusCode.OK, right);
        var metrics = await Http.GetAsync(new Uri(server.Address, "/metrics"));
        Assert.Equal(HttpStatusCode.Unauthorized, metrics.StatusCode);
    }

    [ZooFact]
    public async Task StoppingFinishesTheRequestInFlight()
    {
        var server = await FaceServer.StartAsync(fx.Options());
        var request = Post(server.Address, "/v1/analyze", Raw(fx.Face, "image/png"));
        var wait = System.Diagnostics.Stopwatch.StartNew();
        while (server.Pending == 0 && wait.Elapsed < TimeSpan.FromSeconds(30))
            await Task.Delay(1);
        Assert.True(server.Pending > 0, "the request never reached the batcher");
        await server.DisposeAsync();
        var (status, json, _) = await request;
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, json.GetProperty("faces").GetArrayLength());
    }

    [ZooFact]
    public async Task AnExportedOnnxFileServesTheSameEmbeddingsAndCarriesTheRunsCalibration()
    {
        var onnx = Path.Combine(fx.Root, $"{Guid.NewGuid():N}.onnx");
        var (code, _, err) = CliHarness.Run("export", "--run", fx.RunDir, "--out", onnx);
        Assert.True(code == 0, err);
        float[] fromRun,
            fromOnnx;
        await using (var server = await FaceServer.StartAsync(fx.Options()))
            fromRun = Embedding(
                (await Post(server.Address, "/v1/embed", Raw(fx.Face, "image/png"))).Json.GetProperty("faces")[0]
            );
        await using (var server = await FaceServer.StartAsync(fx.Options() with { Model = onnx }))
        {
            Assert.Equal(
                Calibration.Load(fx.RunDir),
                server.Model.Calibration! with
                {
                    Source = Calibration.Load(fx.RunDir)!.Source,
                }
            );
            var (_, json, _) = await Post(server.Address, "/v1/embed", Raw(fx.Face, "image/png"));
            fromOnnx = Embedding(json.GetProperty("faces")[0]);
        }
        double cos = fromRun.Zip(fromOnnx).Sum(t => (double)t.First * t.Second);
        Assert.True(cos > 0.9999, $"cos {cos}");
    }

    [Fact]
    public void ANonLoopbackAddressWithoutAnApiKeyIsRefusedBeforeAnythingLoads()
    {
        var e = Assert.Throws<FaceDistillException>(() =>
            new ServeOptions { Model = "nowhere", Bind = "0.0.0.0" }.Check()
        );
        Assert.Contains("--api-key-file", e.Message);
        new ServeOptions { Model = "nowhere", Bind = "::1" }.Check();
        var (code, _, err) = CliHarness.Run("serve", "--model", "nowhere", "--bind", "0.0.0.0");
        Assert.Equal(2, code);
        Assert.Single(err.Trim().Split('\n'));
        var (missing, _, missingErr) = CliHarness.Run("serve", "--model", "/no/such/run", "--port", "0");
        Assert.Equal(2, missing);
        Assert.Contains("/no/such/run", missingErr);
    }

    [Fact]
    public async Task TheBatcherGroupsWaitingRequestsUpToTheBatchSize()
    {
        var sizes = new List<int>();
        using var gate = new ManualResetEventSlim(false);
        using var batcher = new DynamicBatcher<int, int>(
            xs =>
            {
                gate.Wait();
                return xs.Select(x => x * 2).ToList();
            },
            maxBatch: 4,
            maxWait: TimeSpan.FromMilliseconds(50),
            capacity: 8
        )
        {
            OnBatch = n =>
            {
                lock (sizes)
                    sizes.Add(n);
            },
        };
        var tasks = new List<Task<int>>();
        for (int i = 0; i < 8; i++)
        {
            Assert.True(batcher.TryEnqueue(i, out var t));
            tasks.Add(t);
        }
        // the first batch holds the gate; of the 8, up to 4 are in it, so the queue of 8 has room for at most 4 more
        while (batcher.Depth > 4)
            Thread.Sleep(1);
        Assert.True(batcher.TryEnqueue(8, out var extra));
        tasks.Add(extra);
        gate.Set();
        var results = await Task.WhenAll(tasks);
        Assert.Equal(Enumerable.Range(0, 9).Select(i => 2 * i), results);
        Assert.All(sizes, n => Assert.InRange(n, 1, 4));
        Assert.Equal(9, sizes.Sum());
        Assert.Contains(4, sizes);
    }

    [Fact]
    public void TheBatcherRefusesWhenFullAndAFailingBatchFailsOnlyItsRequests()
    {
        using var gate = new ManualResetEventSlim(false);
        using var batcher = new DynamicBatcher<int, int>(
            xs =>
            {
                gate.Wait();
                return xs[0] < 0 ? throw new InvalidOperationException("bad") : xs.ToList();
            },
            maxBatch: 1,
            maxWait: TimeSpan.Zero,
            capacity: 2
        );
        Assert.True(batcher.TryEnqueue(-1, out var failing));
        while (batcher.Depth > 0)
            Thread.Sleep(1); // the worker holds it
        Assert.True(batcher.TryEnqueue(1, out var a));
        Assert.True(batcher.TryEnqueue(2, out var b));
        Assert.False(batcher.TryEnqueue(3, out _));
        gate.Set();
        Assert.Throws<AggregateException>(() => failing.Wait());
        Assert.Equal(1, a.Result);
        Assert.Equal(2, b.Result);
    }
}
