using System.Diagnostics;
using System.Text.RegularExpressions;

namespace FaceDistill.Tests;

/// <summary>Needs Debian's chromium (scripts/test.sh installs it); skips with a message where it is absent.</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (ReportTests.Chromium() is null)
            Skip = "chromium not installed (apt-get install chromium; scripts/test.sh does it where apt works)";
    }
}

/// <summary>The HTML report of a run: self-contained, every part present, and rendered by a real browser with every
/// image decoded and no console error.</summary>
public class ReportTests
{
    public static string? Chromium() =>
        new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);

    /// <summary>No external resource of any kind, and at least <paramref name="minImages"/> inline PNGs.</summary>
    public static void AssertSelfContainedPage(string path, int minImages)
    {
        var html = File.ReadAllText(path);
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.DoesNotMatch(new Regex("(src|href)=\"(https?:)?//", RegexOptions.IgnoreCase), html);
        Assert.DoesNotContain("@import", html);
        Assert.DoesNotContain("<link", html);
        var images = Regex.Matches(html, "<img [^>]*src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"");
        Assert.True(images.Count >= minImages, $"{images.Count} inline images, expected at least {minImages}");
        foreach (Match m in images)
        {
            var png = Convert.FromBase64String(m.Groups[1].Value);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        }
    }

    /// <summary>Chromium headless on the page: the DOM after load (with the page's own image check) and the
    /// browser's log on standard error (console messages are logged there).</summary>
    public static (string Dom, string Log) Open(string page, string? screenshot = null)
    {
        var profile = TestUtil.TempDir();
        var psi = new ProcessStartInfo(Chromium()!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (
            var a in new[]
            {
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                $"--user-data-dir={profile}",
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=5000",
                "--window-size=1200,2000",
                screenshot is null ? "--dump-dom" : $"--screenshot={screenshot}",
                new Uri(Path.GetFullPath(page)).AbsoluteUri,
            }
        )
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(90_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("chromium did not finish in 90 s");
        }
        return (stdout.Result, stderr.Result);
    }

    private static string TrainTinyRun(out string root)
    {
        root = TestUtil.TempDir();
        TrainingRun.Execute(TestUtil.Tiny("report-run", epochs: 2), root, ExistingRun.Refuse);
        return Path.Combine(root, "report-run");
    }

    [Fact]
    public void EveryRunWritesASelfContainedReportWithItsCurvesRocHistogramsSamplesAndConfig()
    {
        var run = TrainTinyRun(out _);
        var path = Path.Combine(run, RunHtmlReport.FileName);
        Assert.True(File.Exists(path));
        // loss, lr, images/s, evaluation curves + ROC + similarity histograms + samples
        AssertSelfContainedPage(path, minImages: 7);
        var html = File.ReadAllText(path);
        foreach (
            var part in new[]
            {
                "Reproduce",
                "scripts/facedistill train",
                "parameters",
                "FLOPs",
                "training loss",
                "learning rate",
                "throughput",
                "ROC",
                "similarity histograms",
                "Sample inputs",
                "Machine and versions",
                "TorchSharp",
                "Resolved config",
                "&quot;backbone&quot;",
            }
        )
            Assert.Contains(part, html);
        // rebuilt from the directory alone, the same page (the machine is the one recorded with the run)
        File.Delete(path);
        var (code, output, err) = CliHarness.Run("report", run);
        Assert.True(code == 0, err);
        Assert.Contains("report.html", output);
        Assert.Equal(html, File.ReadAllText(path));
    }

    [Fact]
    public void ReportOfSomethingThatIsNotARunIsOneLineNamingIt()
    {
        var dir = TestUtil.TempDir();
        var (code, _, err) = CliHarness.Run("report", dir);
        Assert.Equal(2, code);
        Assert.Contains(dir, err);
        Assert.Single(err.Trim().Split('\n'));
        var (missing, _, missingErr) = CliHarness.Run("report", Path.Combine(dir, "nope"));
        Assert.Equal(2, missing);
        Assert.Contains("not found", missingErr);
    }

    [BrowserFact]
    public void TheRunReportRendersInChromiumWithEveryImageDecodedAndNoConsoleError()
    {
        var run = TrainTinyRun(out _);
        var (dom, log) = Open(Path.Combine(run, RunHtmlReport.FileName));
        Assert.Contains("data-images-ok=\"yes\"", dom);
        Assert.True(Regex.Matches(dom, "<img ").Count >= 7);
        Assert.Contains("<table", dom);
        Assert.DoesNotMatch(new Regex("CONSOLE.*(Uncaught|Error)|Uncaught ", RegexOptions.IgnoreCase), log);
    }
}
