using FaceDistill.Core;
using FaceDistill.Faces;

namespace FaceDistill.Serve;

/// <summary>What <c>facedistill serve</c> was asked for; <see cref="Check"/> refuses nonsense before anything
/// loads.</summary>
public sealed record ServeOptions
{
    /// <summary>A FaceDistill run directory or an exported <c>.onnx</c> file.</summary>
    public required string Model { get; init; }
    public int Port { get; init; } = 8080;
    public string Bind { get; init; } = "127.0.0.1";
    public FaceDetectorKind Detector { get; init; } = FaceDetectorKind.Auto;

    /// <summary>Align a face BlazeFace found from its keypoints (<see cref="FaceAnalyzer.AlignFromKeypoints"/>).
    /// </summary>
    public bool AlignFromKeypoints { get; init; } = true;

    /// <summary>Most images the batcher hands the networks at once.</summary>
    public int MaxBatch { get; init; } = 8;

    /// <summary>How long the batcher waits for more images after the first one of a batch arrived.</summary>
    public double MaxWaitMs { get; init; } = 5;

    /// <summary>Images waiting at most; a request beyond it is answered 503 with Retry-After.</summary>
    public int QueueCapacity { get; init; } = 32;

    /// <summary>Largest request body (bytes); larger is 413.</summary>
    public long MaxBodyBytes { get; init; } = 16L << 20;

    /// <summary>A file whose first line is the API key; required when <see cref="Bind"/> is not loopback.</summary>
    public string? ApiKeyFile { get; init; }

    /// <summary>Feed the model grey faces (a model trained on a grey dataset such as FER2013).</summary>
    public bool Grayscale { get; init; }

    /// <summary>Lowest detection score of a face.</summary>
    public double MinScore { get; init; } = 0.5;

    /// <summary>The zoo's cache folder (null: the default).</summary>
    public string? ZooHome { get; init; }

    public void Check()
    {
        if (Port is < 0 or > 65535)
            throw new FaceDistillException($"--port must be in 0..65535, found {Port}");
        if (!System.Net.IPAddress.TryParse(Bind, out _) && Bind != "localhost")
            throw new FaceDistillException($"--bind must be an IP address or localhost, found '{Bind}'");
        if (MaxBatch is < 1 or > 256)
            throw new FaceDistillException($"--max-batch must be in 1..256, found {MaxBatch}");
        if (!(MaxWaitMs >= 0 && MaxWaitMs <= 1000))
            throw new FaceDistillException($"--max-wait-ms must be in 0..1000, found {MaxWaitMs}");
        if (QueueCapacity is < 1 or > 10_000)
            throw new FaceDistillException($"--queue must be in 1..10000, found {QueueCapacity}");
        if (MaxBodyBytes is < 1024 or > 1L << 30)
            throw new FaceDistillException($"--max-body must be in 1 KiB..1 GiB, found {MaxBodyBytes}");
        if (!(MinScore > 0 && MinScore < 1))
            throw new FaceDistillException($"--min-score must be in (0, 1), found {MinScore}");
        if (!IsLoopback && ApiKeyFile is null)
            throw new FaceDistillException(
                $"--bind {Bind} is reachable from other machines: give --api-key-file (or bind 127.0.0.1)"
            );
    }

    public bool IsLoopback =>
        Bind == "localhost" || (System.Net.IPAddress.TryParse(Bind, out var a) && System.Net.IPAddress.IsLoopback(a));
}
