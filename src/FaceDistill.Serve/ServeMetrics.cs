using System.Diagnostics.Metrics;

namespace FaceDistill.Serve;

/// <summary>The server's instruments (System.Diagnostics.Metrics, exported by OpenTelemetry's Prometheus exporter at
/// <c>/metrics</c>): requests by endpoint and status, request latency, batch sizes and queue depth.</summary>
public sealed class ServeMetrics : IDisposable
{
    public const string MeterName = "FaceDistill.Serve";

    /// <summary>Latency histogram bounds in seconds (a face request costs tens of milliseconds to seconds on a
    /// CPU).</summary>
    public static readonly double[] LatencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    public static readonly double[] BatchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256];

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _latency;
    private readonly Histogram<long> _batch;

    public ServeMetrics(Func<int> queueDepth)
    {
        _meter = new Meter(MeterName);
        _requests = _meter.CreateCounter<long>("facedistill_requests", description: "HTTP requests answered");
        _latency = _meter.CreateHistogram<double>(
            "facedistill_request_duration",
            unit: "s",
            description: "Time from the request's arrival to its answer"
        );
        _batch = _meter.CreateHistogram<long>(
            "facedistill_batch_size",
            description: "Images the batcher handed the networks at once"
        );
        _meter.CreateObservableGauge(
            "facedistill_queue_depth",
            () => (long)queueDepth(),
            description: "Images waiting for the networks"
        );
    }

    public void Request(string endpoint, int status, double seconds)
    {
        var tags = new KeyValuePair<string, object?>[] { new("endpoint", endpoint), new("status", status) };
        _requests.Add(1, tags);
        _latency.Record(seconds, new KeyValuePair<string, object?>("endpoint", endpoint));
    }

    public void Batch(int size) => _batch.Record(size);

    public void Dispose() => _meter.Dispose();
}
