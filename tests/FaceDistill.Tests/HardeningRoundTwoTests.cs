using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Runs;
using FaceDistill.Training;
using Xunit;

namespace FaceDistill.Tests;

/// <summary>Bad inputs the second hostile round found accepted or answered with a generic error.</summary>
public class HardeningRoundTwoTests
{
    private static FaceDistillException Refused(Action action) => Assert.Throws<FaceDistillException>(action);

    [Fact]
    public void AYamlConfigWithASecondDocumentIsRefusedNamingTheLine()
    {
        var path = Path.Combine(TestUtil.TempDir(), "c.yaml");
        File.WriteAllText(path, "name: a\n---\nname: b\n");
        var e = Refused(() => ConfigLoader.Load(path));
        Assert.Contains("2 YAML documents", e.Message);
        Assert.Contains("line 3", e.Message);
    }

    [Theory]
    [InlineData("[-1, 1]")]
    [InlineData("[1, 1000000000]")]
    [InlineData("[1.5, 1]")]
    public void MilestonesOutsideTheRunOrOutOfOrderAreRefused(string milestones)
    {
        var path = Path.Combine(TestUtil.TempDir(), "c.yaml");
        File.WriteAllText(path, $"train:\n  epochs: 2\n  schedule:\n    type: step\n    milestones: {milestones}\n");
        Assert.Contains("train.schedule.milestones", Refused(() => RunConfig.Load(path)).Message);
    }

    [Fact]
    public void APairListThatComparesAnImageWithItselfIsRefused()
    {
        var root = TestUtil.TempDir();
        foreach (var f in new[] { "A/A_0001.png", "A/A_0002.png", "B/B_0001.png" })
            ImageCodec.Save(new RgbImage(8, 8), Path.Combine(root, f));
        var pairs = Path.Combine(root, "pairs.txt");
        File.WriteAllLines(pairs, ["1 1", "A 1 1", "A 1 B 1"]);
        Assert.Contains(
            "line 2: compares image 1 of A with itself",
            Refused(() => PairList.LoadLfw(pairs, root)).Message
        );
        File.WriteAllLines(pairs, ["1 1", "A 1 01", "A 1 B 1"]);
        Assert.Contains("with itself", Refused(() => PairList.LoadLfw(pairs, root)).Message);
        File.WriteAllLines(pairs, ["1 1", "A 1 2", "A 1 A 2"]);
        Assert.Contains(
            "line 3: a different-identity pair names A on both sides",
            Refused(() => PairList.LoadLfw(pairs, root)).Message
        );
        File.WriteAllLines(pairs, ["1 1", "A 1 2", "A 1 B 1"]);
        Assert.Equal(2, PairList.LoadLfw(pairs, root).Pairs.Count);
    }

    [Fact]
    public void APgmIsDecodedByItsContentWhateverItsName()
    {
        var path = Path.Combine(TestUtil.TempDir(), "face.png");
        File.WriteAllBytes(path, [.. "P5\n2 2\n255\n"u8.ToArray(), 0, 100, 200, 255]);
        var img = ImageCodec.Load(path);
        Assert.Equal((2, 2), (img.Width, img.Height));
        Assert.Equal(200, img[0, 1, 0]);
    }

    [Fact]
    public void ReportRefusesAMalformedConfigAndWarnsAboutAMetricsLogItCannotRead()
    {
        var run = TestUtil.TempDir();
        File.WriteAllText(Path.Combine(run, "config.json"), "{ broken");
        Assert.Contains("config.json: malformed JSON", Refused(() => RunHtmlReport.Write(run)).Message);
        File.WriteAllText(Path.Combine(run, "config.json"), "{}");
        File.WriteAllBytes(Path.Combine(run, "metrics.csv"), [0x89, 0x00, 0xFF, 0x10, 0x0A, 0x41]);
        var warnings = new List<string>();
        var sink = Log.Sink;
        Log.Sink = warnings.Add;
        try
        {
            var page = File.ReadAllText(RunHtmlReport.Write(run));
            Assert.Contains("None: metrics.csv is not a metrics log", page);
        }
        finally
        {
            Log.Sink = sink;
        }
        Assert.Contains(warnings, w => w.Contains("metrics.csv") && w.Contains("no training curves"));
    }

    [Fact]
    public void HalfWrittenCheckpointFoldersAreRemovedWhenARunResumes()
    {
        var dir = TestUtil.TempDir();
        Directory.CreateDirectory(Path.Combine(dir, ".step-0000010.0123abcd.tmp", "inner"));
        Directory.CreateDirectory(Path.Combine(dir, "step-0000005"));
        Assert.Equal(1, Checkpoint.RemoveUnfinished(dir));
        Assert.False(Directory.Exists(Path.Combine(dir, ".step-0000010.0123abcd.tmp")));
        Assert.True(Directory.Exists(Path.Combine(dir, "step-0000005")));
        Assert.Equal(0, Checkpoint.RemoveUnfinished(Path.Combine(dir, "none")));
    }
}
