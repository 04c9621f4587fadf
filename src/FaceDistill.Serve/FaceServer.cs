using System.Diagnostics;
using System.Net;
using FaceDistill.Core;
using FaceDistill.Evaluation;
using FaceDistill.Faces;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace FaceDistill.Serve;

/// <summary>
/// <c>facedistill serve</c>: a trained student (or an exported ONNX file) behind an HTTP API on Kestrel — <c>POST
/// /v1/embed</c>, <c>/v1/verify</c>, <c>/v1/analyze</c>, <c>GET /healthz</c>, <c>/metrics</c> (Prometheus, through
/// OpenTelemetry) and <c>/openapi.json</c>. Images go through a <see cref="DynamicBatcher{TIn,TOut}"/> to one worker
/// thread that owns the networks. Bad input is a status and a one-line JSON error, never a stack trace: 413 over the
/// body limit, 415 for a content type that is not an image or a form, 400 for a body that does not decode (or claims
/// more pixels than the limit), 503 with Retry-After when the queue is full, 401 without the API key where one is
/// needed. Stopping (SIGTERM, SIGINT, <see cref="DisposeAsync"/>) finishes the requests in flight.
/// </summary>
public sealed class FaceServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly DynamicBatcher<ServeJob, ServeJobResult> _batcher;
    private readonly ServedModel _model;
    private readonly FaceAnalyzer _zoo;
    private readonly ServeMetrics _metrics;

    /// <summary>Where the server listens (with the real port when 0 was asked for).</summary>
    public Uri Address { get; private set; } = new("http://127.0.0.1/");

    public ServedModel Model => _model;

    /// <summary>Images queued or being run now.</summary>
    public int Pending => _batcher.Pending;

    private FaceServer(
        WebApplication app,
        DynamicBatcher<ServeJob, ServeJobResult> batcher,
        ServedModel model,
        FaceAnalyzer zoo,
        ServeMetrics metrics
    )
    {
        _app = app;
        _batcher = batcher;
        _model = model;
        _zoo = zoo;
        _metrics = metrics;
    }

    /// <summary>The raw-body image types the one-image endpoints accept (decoded by content, whatever the type says).
    /// </summary>
    private static readonly string[] ImageTypes =
    [
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/bmp",
        "image/x-portable-graymap",
        "image/*",
        "application/octet-stream",
    ];

    /// <summary>Checks the options, loads the model and the zoo detector, and starts listening.</summary>
    public static async Task<FaceServer> StartAsync(ServeOptions o, CancellationToken cancel = default)
    {
        o.Check();
        var key = o.ApiKeyFile is null ? null : ApiKey.Read(o.ApiKeyFile);
        var model = ServedModel.Load(o.Model);
        var zoo = new FaceAnalyzer(o.ZooHome)
        {
            Detector = o.Detector,
            MinConfidence = o.MinScore,
            AlignFromKeypoints = o.AlignFromKeypoints,
        };
        try
        {
            // load the nets now: a missing zoo is a start-up error, not the first request's
            zoo.LoadDetector();
            _ = zoo.Landmarks;
            var pipeline = new FacePipeline(zoo, model.InputSize, model.CenterCrop, o.Grayscale);
            var worker = new ServeWorker(model, pipeline);
            ServeMetrics? metrics = null;
            var batcher = new DynamicBatcher<ServeJob, ServeJobResult>(
                worker.Run,
                o.MaxBatch,
                TimeSpan.FromMilliseconds(o.MaxWaitMs),
                o.QueueCapacity
            )
            {
                OnBatch = n => metrics?.Batch(n),
            };
            metrics = new ServeMetrics(() => batcher.Depth);
            var app = Build(o, key, batcher, model, metrics);
            var server = new FaceServer(app, batcher, model, zoo, metrics);
            await app.StartAsync(cancel);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!;
            server.Address = new Uri(address.Addresses.First());
            return server;
        }
        catch
        {
            zoo.Dispose();
            model.Dispose();
            throw;
        }
    }

    /// <summary>Runs until the host stops (SIGTERM or SIGINT, or <paramref name="cancel"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancel = default) => _app.WaitForShutdownAsync(cancel);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _batcher.Dispose();
        _metrics.Dispose();
        _zoo.Dispose();
        _model.Dispose();
    }

    private static WebApplication Build(
        ServeOptions o,
        ApiKey? key,
        DynamicBatcher<ServeJob, ServeJobResult> batcher,
        ServedModel model,
        ServeMetrics metrics
    )
    {
        var builder = WebApplication.CreateSlimBuilder(
            new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] }
        );
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new CoreLogProvider());
        builder.Services.Configure<ConsoleLifetimeOptions>(c => c.SuppressStatusMessages = true);
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(30));
        builder.Services.Configure<FormOptions>(f => f.MultipartBodyLengthLimit = o.MaxBodyBytes);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = o.MaxBodyBytes;
            k.AddServerHeader = false;
            if (o.Bind == "localhost")
                k.ListenLocalhost(o.Port);
            else
                k.Listen(IPAddress.Parse(o.Bind), o.Port);
        });
        builder.Services.AddOpenApi();
        builder
            .Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("facedistill"))
            .WithMetrics(m =>
                m.AddMeter(ServeMetrics.MeterName)
                    .AddView(
                        "facedistill_request_duration",
                        new ExplicitBucketHistogramConfiguration { Boundaries = ServeMetrics.LatencyBuckets }
                    )
                    .AddView(
                        "facedistill_batch_size",
                        new ExplicitBucketHistogramConfiguration { Boundaries = ServeMetrics.BatchBuckets }
                    )
                    .AddPrometheusExporter()
            );
        var app = builder.Build();
        app.Use(
            async (ctx, next) =>
            {
                var watch = Stopwatch.StartNew();
                try
                {
                    if (
                        key is not null
                        && !key.Matches(
                            ApiKey.Presented(ctx.Request.Headers.Authorization, ctx.Request.Headers["X-API-Key"])
                        )
                    )
                    {
                        await Error(ctx, StatusCodes.Status401Unauthorized, "missing or wrong API key");
                        return;
                    }
                    if (
                        ctx.Request.Path.Equals("/metrics", StringComparison.OrdinalIgnoreCase)
                        && !HttpMethods.IsGet(ctx.Request.Method)
                        && !HttpMethods.IsHead(ctx.Request.Method)
                    )
                    {
                        // the Prometheus exporter's endpoint answers every method; a scrape is a GET
                        ctx.Response.Headers.Allow = "GET, HEAD";
                        await Error(ctx, StatusCodes.Status405MethodNotAllowed, "/metrics: use GET");
                        return;
                    }
                    await next(ctx);
                    if (!ctx.Response.HasStarted && ctx.Response.StatusCode >= 400)
                        await Error(ctx, ctx.Response.StatusCode, Reason(ctx.Response.StatusCode, ctx.Request.Path));
                }
                catch (BadHttpRequestException e)
                {
                    await Error(ctx, e.StatusCode, FaceDistillException.OneLine(e.Message));
                }
                catch (Exception e) when (!ctx.RequestAborted.IsCancellationRequested)
                {
                    Log.Warn($"serve: {ctx.Request.Path}: {FaceDistillException.OneLine(e.Message)}");
                    await Error(ctx, StatusCodes.Status500InternalServerError, "internal error");
                }
                finally
                {
                    metrics.Request(
                        EndpointName(ctx.Request.Path),
                        ctx.Response.StatusCode,
                        watch.Elapsed.TotalSeconds
                    );
                }
            }
        );
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapOpenApi("/openapi.json");
        var handlers = new ServeHandlers(batcher, model);
        app.MapGet("/healthz", handlers.Health).WithSummary("Liveness and the served model").Produces<HealthResponse>();
        app.MapPost("/v1/embed", handlers.Embed)
            .WithSummary("Every face of an image: box, 5 landmarks, embedding")
            .Accepts<IFormFile>("multipart/form-data", ImageTypes)
            .Produces<EmbedResponse>()
            .Produces<ErrorResponse>(400)
            .Produces<ErrorResponse>(413)
            .Produces<ErrorResponse>(415)
            .Produces<ErrorResponse>(503)
            .DisableAntiforgery();
        app.MapPost("/v1/verify", handlers.Verify)
            .WithSummary("Two images (form files a and b): cosine, same/different at the calibrated threshold")
            .Accepts<IFormFileCollection>("multipart/form-data")
            .Produces<VerifyResponse>()
            .Produces<ErrorResponse>(400)
            .Produces<ErrorResponse>(415)
            .Produces<ErrorResponse>(503)
            .DisableAntiforgery();
        app.MapPost("/v1/analyze", handlers.Analyze)
            .WithSummary("The zoo's analysis: box, 68 landmarks, expression, age, gender")
            .Accepts<IFormFile>("multipart/form-data", ImageTypes)
            .Produces(200)
            .Produces<ErrorResponse>(400)
            .Produces<ErrorResponse>(415)
            .Produces<ErrorResponse>(503)
            .DisableAntiforgery();
        return app;
    }

    private static readonly string[] Endpoints = ["/v1/embed", "/v1/verify", "/v1/analyze", "/healthz", "/metrics"];

    private static string EndpointName(PathString path) =>
        Endpoints.FirstOrDefault(e => path.Equals(e, StringComparison.OrdinalIgnoreCase)) ?? "other";

    private static string Reason(int status, PathString path) =>
        status switch
        {
            415 when path.Equals("/v1/verify", StringComparison.OrdinalIgnoreCase) => ServeHandlers.VerifyForm,
            404 => "no such endpoint (see /openapi.json)",
            405 => "method not allowed here (see /openapi.json)",
            415 => "unsupported content type: send an image (image/*, application/octet-stream) or multipart/form-data",
            _ => ReasonPhrases.GetReasonPhrase(status),
        };

    internal static async Task Error(HttpContext ctx, int status, string message)
    {
        if (ctx.Response.HasStarted)
            return;
        ctx.Response.Clear();
        ctx.Response.StatusCode = status;
        await ctx.Response.WriteAsJsonAsync(new ErrorResponse(message));
    }
}

/// <summary>ASP.NET Core's own log lines (warnings and above) go to <see cref="Log"/>, as the library's do.</summary>
internal sealed class CoreLogProvider : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger();

    public void Dispose() { }

    private sealed class Logger : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(
            LogLevel logLevel,
            EventId eventId,
            TState state,
            Exception? exception,
            Func<TState, Exception?, string> formatter
        )
        {
            if (IsEnabled(logLevel))
                Core.Log.Warn($"serve: {FaceDistillException.OneLine(formatter(state, exception))}");
        }
    }
}
