using System.IO.Compression;
using FaceDistill.Core;
using FaceDistill.Data;

namespace FaceDistill.Tests;

/// <summary>Hostile images and out-of-range options: one line naming the file or option (exit 2), or a counted skip
/// in folder mode — never an allocation of what a header claims.</summary>
public class InputHardeningTests
{
    private static byte[] Chunk(string type, byte[] data)
    {
        var t = System.Text.Encoding.ASCII.GetBytes(type);
        var crc = Crc32([.. t, .. data]);
        return [.. BigEndian((uint)data.Length), .. t, .. data, .. BigEndian(crc)];
    }

    /// <summary>PNG's CRC-32 (ISO 3309, reflected 0xEDB88320).</summary>
    private static uint Crc32(byte[] bytes)
    {
        uint c = 0xFFFFFFFF;
        foreach (var b in bytes)
        {
            c ^= b;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return c ^ 0xFFFFFFFF;
    }

    private static byte[] BigEndian(uint v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];

    /// <summary>A PNG of a few hundred bytes whose header claims <paramref name="side"/>² pixels.</summary>
    internal static byte[] PngBomb(uint side)
    {
        var ihdr = BigEndian(side).Concat(BigEndian(side)).Concat(new byte[] { 8, 2, 0, 0, 0 }).ToArray();
        using var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true))
            zs.Write(new byte[4096]);
        byte[] sig = [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10];
        return [.. sig, .. Chunk("IHDR", ihdr), .. Chunk("IDAT", z.ToArray()), .. Chunk("IEND", [])];
    }

    /// <summary>A JPEG that is a start-of-frame claiming 30,000² pixels and nothing else.</summary>
    private static readonly byte[] JpegBomb =
    [
        0xFF,
        0xD8,
        0xFF,
        0xC0,
        0,
        17,
        8,
        0x75,
        0x30,
        0x75,
        0x30,
        3,
        1,
        0x11,
        0,
        2,
        0x11,
        0,
        3,
        0x11,
        0,
        0xFF,
        0xD9,
    ];

    private static string Hostile(string dir)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "bomb30k.png"), PngBomb(30_000));
        File.WriteAllBytes(Path.Combine(dir, "bomb100k.png"), PngBomb(100_000));
        File.WriteAllBytes(Path.Combine(dir, "bomb.jpg"), JpegBomb);
        File.WriteAllText(Path.Combine(dir, "text.gif"), "GIF89a but only text follows\n");
        File.WriteAllBytes(Path.Combine(dir, "huge.pgm"), [.. "P5\n60000 60000\n255\n"u8.ToArray(), .. new byte[64]]);
        return dir;
    }

    [Fact]
    public void HostileHeadersAreRefusedNamingTheFileBeforeAnyPixelIsAllocated()
    {
        var dir = Hostile(TestUtil.TempDir());
        long before = GC.GetTotalAllocatedBytes(precise: true);
        foreach (var f in Directory.GetFiles(dir))
        {
            var e = Assert.Throws<FaceDistillException>(() => ImageCodec.Load(f));
            Assert.StartsWith(f + ":", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        // five files whose headers claim up to 10^10 pixels cost a few kilobytes, not gigabytes
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 16 << 20);
        Assert.Contains(
            "more than the limit",
            Assert.Throws<FaceDistillException>(() => ImageCodec.Load(Path.Combine(dir, "bomb30k.png"))).Message
        );
        Assert.Contains(
            "more than the limit",
            Assert.Throws<FaceDistillException>(() => ImageCodec.Load(Path.Combine(dir, "huge.pgm"))).Message
        );
    }

    [Fact]
    public void AFacePoolSkipsAndListsHostileFiles()
    {
        var dir = Hostile(Path.Combine(TestUtil.TempDir(), "pool"));
        var good = new FaceDistill.Data.Synthetic.SyntheticFaces(
            new FaceDistill.Data.Synthetic.SyntheticOptions
            {
                Identities = 2,
                ImagesPerIdentity = 2,
                Size = 32,
            }
        );
        for (int i = 0; i < good.Count; i++)
            ImageCodec.Save(good.Image(i), Path.Combine(dir, $"face{i}.png"));
        var pool = FacePool.Open([new PoolSource(dir, "pool")], TestUtil.TempDir());
        Assert.Equal(4, pool.Count);
        Assert.Equal(5, pool.Skipped.Count);
        Assert.Contains(pool.Skipped, s => s.Path.EndsWith("bomb30k.png") && s.Reason.Contains("over the limit"));
    }

    [Fact]
    public void FolderCommandsSkipAndCountHostileFiles()
    {
        var dir = Hostile(Path.Combine(TestUtil.TempDir(), "in"));
        var good = new FaceDistill.Data.Synthetic.SyntheticFaces(
            new FaceDistill.Data.Synthetic.SyntheticOptions
            {
                Identities = 1,
                ImagesPerIdentity = 1,
                Size = 112,
            }
        );
        ImageCodec.Save(good.Image(0), Path.Combine(dir, "face.png"));
        var outDir = Path.Combine(TestUtil.TempDir(), "out");
        var (code, output, err) = CliHarness.Run("occlude", dir, "--landmarks", "detect", "--out", outDir, "--quiet");
        Assert.True(code == 0, err);
        Assert.Contains("5 unreadable files skipped", err);
        Assert.Contains("bomb100k.png", err);
        var (code2, _, err2) = CliHarness.Run("align", dir, Path.Combine(TestUtil.TempDir(), "aligned"), "--quiet");
        Assert.True(code2 == 0, err2);
    }

    [Theory]
    [InlineData("--min-score must be in [0, 1]", "analyze", "{img}", "--min-score", "NaN")]
    [InlineData("--min-score must be in [0, 1]", "analyze", "{img}", "--min-score", "2")]
    [InlineData("--size must be in [16, 1024]", "align", "{dir}", "{out}", "--size", "0")]
    [InlineData("--size must be in [16, 1024]", "align", "{dir}", "{out}", "--size", "100000")]
    [InlineData("--faces must be in [1, 1000]", "occlude", "synthetic", "--grid", "{out}.png", "--faces", "0")]
    [InlineData("--grid /proc/nope.png: cannot be written", "occlude", "synthetic", "--grid", "/proc/nope.png")]
    [InlineData("--grid {dir}: is a folder", "synth", "{out}", "--grid", "{dir}")]
    [InlineData("--roc /proc/nope.png: cannot be written", "eval", "--run", "{dir}", "--roc", "/proc/nope.png")]
    [InlineData("--center-crop must be in (0, 1]", "eval", "--run", "{dir}", "--center-crop", "0")]
    [InlineData("--threads must be in [0, 1024]", "train", "configs/demo.json", "--threads", "-3")]
    [InlineData("--threads must be in [0, 1024]", "serve", "--model", "{dir}", "--threads", "-3")]
    [InlineData("--limit must be in [0, ", "models", "baseline", "fer2013", "{dir}", "--limit", "-5")]
    [InlineData("--grid {out}.txt: --grid writes an image", "occlude", "synthetic", "--grid", "{out}.txt")]
    [InlineData("--roc {out}.jpg: --roc writes a PNG", "eval", "--run", "{dir}", "--roc", "{out}.jpg")]
    [InlineData(
        "size=100000 is not an integer in [1, 4096]",
        "eval",
        "--model",
        "onnx:{img}?size=100000",
        "--pairs",
        "{img}",
        "--images",
        "{dir}"
    )]
    [InlineData(
        "mean=NaN is not a list of finite numbers",
        "eval",
        "--model",
        "onnx:{img}?mean=NaN",
        "--pairs",
        "{img}",
        "--images",
        "{dir}"
    )]
    public void OutOfRangeOptionsAreOneLineErrorsNamingTheOption(string message, params string[] args)
    {
        var dir = TestUtil.TempDir();
        var img = Path.Combine(dir, "face.png");
        ImageCodec.Save(new RgbImage(64, 64), img);
        var outDir = Path.Combine(TestUtil.TempDir(), "o");
        var real = args.Select(a => a.Replace("{img}", img).Replace("{dir}", dir).Replace("{out}", outDir))
            .Select(a => a == "configs/demo.json" ? Path.Combine(RepoPaths.Root(), a) : a)
            .ToArray();
        var (code, _, err) = CliHarness.Run(real);
        Assert.Equal(2, code);
        Assert.Contains(message.Replace("{dir}", dir).Replace("{out}", outDir), err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void UnusableRunFoldersAndNamesAreOneLineErrors()
    {
        var demo = Path.Combine(RepoPaths.Root(), "configs", "demo.json");
        // /proc refuses new entries even to root: the path is named, exit 2, before any training
        var (code, _, err) = CliHarness.Run("train", demo, "--runs", "/proc/facedistill-nope", "--quiet");
        Assert.Equal(2, code);
        Assert.Contains("/proc/facedistill-nope", err);
        Assert.Single(err.Trim().Split('\n'));
        // a file where the run root should be, or on its path
        var file = Path.Combine(TestUtil.TempDir(), "a-file");
        File.WriteAllText(file, "");
        foreach (
            var (runs, message) in new[] { (file, "is a file, not a folder"), (file + "/sub", "cannot be created") }
        )
        {
            var (c1, _, e1) = CliHarness.Run("train", demo, "--runs", runs, "--quiet");
            Assert.Equal(2, c1);
            Assert.Contains($"--runs {runs}: {message}", e1);
            Assert.Single(e1.Trim().Split('\n'));
        }
        foreach (var name in new[] { "two\nlines", new string('x', 101), "--force" })
        {
            var (c2, _, e2) = CliHarness.Run(
                "train",
                demo,
                "--set",
                $"name={name}",
                "--runs",
                TestUtil.TempDir(),
                "-q"
            );
            Assert.Equal(2, c2);
            Assert.Contains("not usable as a run directory name", e2);
            Assert.Single(e2.Trim().Split('\n'));
        }
    }

    [ZooFact]
    public void AStoppedPrepareStepLeavesNothingHalfUsedAndResumesFromScratch()
    {
        var dir = TestUtil.TempDir();
        var input = Path.Combine(dir, "in");
        Directory.CreateDirectory(input);
        var face = new FaceDistill.Data.Synthetic.SyntheticFaces(
            new FaceDistill.Data.Synthetic.SyntheticOptions
            {
                Identities = 1,
                ImagesPerIdentity = 1,
                Size = 64,
            }
        ).Image(0);
        for (int i = 0; i < 3; i++)
            ImageCodec.Save(face, Path.Combine(input, $"f{i}.png"));
        var step = new FaceDistill.Experiments.AlignStep(input, Path.Combine(dir, "out"), null, 112, "tiny", 0.5, 0.8);
        using var stop = new CancellationTokenSource();
        stop.Cancel(); // SIGTERM before the first image
        Assert.Throws<OperationCanceledException>(() =>
            FaceDistill.Experiments.DataPreparation.PrepareData(step, _ => { }, stop.Token)
        );
        Assert.False(step.Done);
        Assert.False(Directory.Exists(step.Out));
        // run again: done from scratch (the .partial folder of the stopped step is discarded)
        FaceDistill.Experiments.DataPreparation.PrepareData(step, _ => { });
        Assert.True(step.Done);
        Assert.Equal(3, Directory.GetFiles(step.Out, "*.png").Length);
    }

    [Fact]
    public void AStoppedCommandExitsWith130AndOneLine()
    {
        var err = new StringWriter();
        var old = Console.Error;
        Console.SetError(err);
        try
        {
            Assert.Equal(
                130,
                FaceDistill.Cli.Commands.Report(new OperationCanceledException("runs/x was interrupted; run it again"))
            );
        }
        finally
        {
            Console.SetError(old);
        }
        Assert.Equal("stopped: runs/x was interrupted; run it again", err.ToString().Trim());
    }
}
