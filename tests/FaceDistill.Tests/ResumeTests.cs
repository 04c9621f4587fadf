using System.Diagnostics;
using System.Text.Json;
using FaceDistill.Core;
using FaceDistill.Training;

namespace FaceDistill.Tests;

/// <summary>Resume paths that used to break: a finished run, a checkpoint pointer gone, nothing left to resume from,
/// two --force in the same second, SIGTERM.</summary>
public class ResumeTests
{
    [Fact]
    public void ARunRefusedBeforeItsFirstStepLeavesNoDirectorySoTheFixedRetryIsNotExists()
    {
        var root = TestUtil.TempDir();
        var cfg = TestUtil.Tiny("refused", epochs: 1);
        var tooBig = cfg with { Train = cfg.Train with { BatchSize = 1000 } };
        var e = Assert.Throws<FaceDistillException>(() => TrainingRun.Execute(tooBig, root, ExistingRun.Refuse));
        Assert.Contains("train.batchSize", e.Message);
        Assert.False(Directory.Exists(Path.Combine(root, "refused")));
        var outcome = TrainingRun.Execute(cfg, root, ExistingRun.Refuse);
        Assert.False(outcome.Result.Interrupted);
    }

    [Fact]
    public void ResumingAFinishedRunFinishesIt()
    {
        var root = TestUtil.TempDir();
        var cfg = TestUtil.Tiny("done", epochs: 1);
        TrainingRun.Execute(cfg, root, ExistingRun.Refuse);
        var report = Path.Combine(root, "done", "report.json");
        File.Delete(report); // killed between the last checkpoint and the report
        var again = TrainingRun.Execute(cfg, root, ExistingRun.Resume);
        Assert.False(again.Result.Interrupted);
        Assert.True(File.Exists(report));
        var json = JsonDocument.Parse(File.ReadAllText(report)).RootElement;
        Assert.True(double.IsFinite(json.GetProperty("finalLoss").GetDouble()));
        // a state whose step is past the end: the same
        var latest = Checkpoint.Latest(Path.Combine(root, "done", "checkpoints"))!;
        var state = Checkpoint.LoadState(latest);
        File.WriteAllText(Path.Combine(latest, "state.json"), JsonSerializer.Serialize(state with { Step = 999 }));
        Checkpoint.WriteManifest(latest); // a deliberate edit: sealed again
        Assert.False(TrainingRun.Execute(cfg, root, ExistingRun.Resume).Result.Interrupted);
    }

    [Fact]
    public void WithoutTheLatestPointerTheNewestCompleteCheckpointIsUsedAndNothingIsOverwritten()
    {
        var root = TestUtil.TempDir();
        var cfg = TestUtil.Tiny("pointer", epochs: 2);
        var straight = TrainingRun.Execute(cfg with { Name = "straight" }, root, ExistingRun.Refuse);
        TrainingRun.Execute(cfg, root, ExistingRun.Refuse, stopAfterStep: 5);
        var checkpoints = Path.Combine(root, "pointer", "checkpoints");
        File.Delete(Path.Combine(checkpoints, "latest"));
        var resumed = TrainingRun.Execute(cfg, root, ExistingRun.Resume);
        Assert.Equal(straight.Result.Steps, resumed.Result.Steps);
        Assert.Equal(
            File.ReadAllBytes(
                Path.Combine(Checkpoint.Latest(Path.Combine(root, "straight", "checkpoints"))!, "model.bin")
            ).Length,
            File.ReadAllBytes(Path.Combine(Checkpoint.Latest(checkpoints)!, "model.bin")).Length
        );
        // no checkpoint at all, but logged steps: refused, the run left as it is
        var cfg3 = cfg with
        {
            Name = "empty",
        };
        TrainingRun.Execute(cfg3, root, ExistingRun.Refuse, stopAfterStep: 5);
        Directory.Delete(Path.Combine(root, "empty", "checkpoints"), recursive: true);
        var metrics = File.ReadAllText(Path.Combine(root, "empty", "metrics.csv"));
        var e = Assert.Throws<FaceDistillException>(() => TrainingRun.Execute(cfg3, root, ExistingRun.Resume));
        Assert.Contains("cannot resume", e.Message);
        Assert.Equal(metrics, File.ReadAllText(Path.Combine(root, "empty", "metrics.csv")));
    }

    [Fact]
    public void ForceTwiceInOneSecondKeepsBothOldRuns()
    {
        var root = TestUtil.TempDir();
        var dir = Path.Combine(root, "r");
        for (int i = 0; i < 3; i++)
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "config.json"), $"{i}");
            RunDirectory.Open(dir, ExistingRun.Force);
        }
        var aside = Directory.GetDirectories(root, "r.old-*");
        Assert.True(aside.Length >= 2, string.Join(", ", aside));
        Assert.Equal(["0", "1", "2"], aside.Select(d => File.ReadAllText(Path.Combine(d, "config.json"))).Order());
    }

    [Fact]
    public void SigtermWritesACheckpointAndExits130()
    {
        if (!OperatingSystem.IsLinux())
            return;
        var root = TestUtil.TempDir();
        var cfg = Path.Combine(root, "slow.json");
        File.WriteAllText(
            cfg,
            JsonSerializer.Serialize(TestUtil.Tiny("slow", epochs: 200), FaceDistill.Config.ConfigLoader.Json)
        );
        var cli = Path.Combine(AppContext.BaseDirectory, "facedistill.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { cli, "train", cfg, "--runs", root })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = new System.Text.StringBuilder();
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(90))
        {
            var line = p.StandardOutput.ReadLine();
            if (line is null)
                break;
            output.AppendLine(line);
            if (line.StartsWith("train ", StringComparison.Ordinal))
                break; // the first progress line: training has begun
        }
        Process.Start("kill", ["-TERM", p.Id.ToString()])!.WaitForExit();
        _ = p.StandardOutput.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(60)), "no exit after SIGTERM");
        Assert.True(p.ExitCode == 130, $"exit {p.ExitCode}: {err.Result} {output}");
        Assert.Contains("terminated: writing a checkpoint", err.Result);
        Assert.NotNull(Checkpoint.Latest(Path.Combine(root, "slow", "checkpoints")));
    }
}
