using System.CommandLine;
using FaceDistill.Core;
using FaceDistill.Faces;
using FaceDistill.Serve;

namespace FaceDistill.Cli;

/// <summary><c>facedistill serve --model runs/x</c>: the HTTP face API (<see cref="FaceServer"/>).</summary>
internal static class ServeCommands
{
    public static Command Serve()
    {
        var model = new Option<string>("--model")
        {
            Description = "A run directory or an exported .onnx file",
            Required = true,
        };
        var port = new Option<int>("--port")
        {
            Description = "TCP port (0: any free one)",
            DefaultValueFactory = _ => 8080,
        };
        var bind = new Option<string>("--bind")
        {
            Description = "Address to listen on; anything but loopback needs --api-key-file",
            DefaultValueFactory = _ => "127.0.0.1",
        };
        var detector = new Option<string>("--detector")
        {
            Description =
                "Face detector: auto (blazeface, then ssd, then tiny), ssd (SSD MobileNet v1; the default before the "
                + "masked front end), tiny or blazeface (human's BlazeFace)",
            DefaultValueFactory = _ => FaceDetectors.Default,
        };
        var alignFrom = ZooCommands.AlignFromOption();
        detector.AcceptOnlyFromAmong(FaceDetectors.Names);
        var keyFile = new Option<string?>("--api-key-file") { Description = "File whose first line is the API key" };
        var maxBatch = new Option<int>("--max-batch")
        {
            Description = "Most images per network batch",
            DefaultValueFactory = _ => 8,
        };
        var maxWait = new Option<double>("--max-wait-ms")
        {
            Description = "How long a batch waits for more images after its first",
            DefaultValueFactory = _ => 5,
        };
        var queue = new Option<int>("--queue")
        {
            Description = "Images waiting at most; beyond it the answer is 503",
            DefaultValueFactory = _ => 32,
        };
        var maxBody = new Option<long>("--max-body")
        {
            Description = "Largest request body in bytes (413 beyond)",
            DefaultValueFactory = _ => 16L << 20,
        };
        var gray = new Option<bool>("--grayscale") { Description = "Feed the model grey faces (e.g. a FER2013 model)" };
        var cmd = new Command("serve", "Serve a trained model over HTTP: /v1/embed, /v1/verify, /v1/analyze, /metrics")
        {
            model,
            port,
            bind,
            detector,
            alignFrom,
            keyFile,
            maxBatch,
            maxWait,
            queue,
            maxBody,
            gray,
            Commands.ThreadsOption,
        };
        cmd.SetAction(p =>
            Commands.Guard(() =>
            {
                Commands.Common(p);
                var options = new ServeOptions
                {
                    Model = p.GetValue(model)!,
                    Port = p.GetValue(port),
                    Bind = p.GetValue(bind)!,
                    Detector = FaceDetectors.Parse(p.GetValue(detector)!),
                    AlignFromKeypoints = ZooCommands.AlignFromKeypoints(p.GetValue(alignFrom)!),
                    ApiKeyFile = p.GetValue(keyFile),
                    MaxBatch = p.GetValue(maxBatch),
                    MaxWaitMs = p.GetValue(maxWait),
                    QueueCapacity = p.GetValue(queue),
                    MaxBodyBytes = p.GetValue(maxBody),
                    Grayscale = p.GetValue(gray),
                };
                var server = FaceServer.StartAsync(options).GetAwaiter().GetResult();
                var m = server.Model;
                Console.WriteLine(
                    $"serving {m.Name} ({m.InputSize}×{m.InputSize}, {m.EmbeddingSize}-d"
                        + (
                            m.Calibration is { } c
                                ? $", threshold {c.Threshold:F4} at FAR {c.Far:P2}"
                                : ", uncalibrated"
                        )
                        + $") on {server.Address} — Ctrl+C or SIGTERM stops it"
                );
                server.WaitForShutdownAsync().GetAwaiter().GetResult();
                server.DisposeAsync().AsTask().GetAwaiter().GetResult();
                Console.WriteLine("stopped");
                return 0;
            })
        );
        return cmd;
    }
}
