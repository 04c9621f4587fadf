using System.Diagnostics;
using System.Text.Json;
using FaceDistill.Config;
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
    public void ARunHasOneWriterAtATimeAndTheLockGoesWithIt()
    {
        var dir = Path.Combine(TestUtil.TempDir(), "r");
        using (var first = RunDirectory.Open(dir, ExistingRun.Refuse))
        {
            File.WriteAllText(first.ConfigPath, "{}");
            var e = Assert.Throws<FaceDistillException>(() => RunDirectory.Open(dir, ExistingRun.Resume));
            Assert.Contains("another process is writing this run", e.Message);
        }
        using var again = RunDirectory.Open(dir, ExistingRun.Resume);
        Assert.True(File.Exists(again.ConfigPath));
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
            using var _ = RunDirectory.Open(dir, ExistingRun.Force);
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
        File.WriteAllText(cfg, JsonSerializer.Serialize(TestUtil.Tiny("slow", epochs: 200), ConfigLoader.Json));
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

    /// <summary>kill -9 (no handler runs, nothing is flushed) at seeded random moments of a short CLI training run —
    /// start-up, training, a checkpoint being written, the final evaluation, the report — then <c>--resume</c> until
    /// it finishes: the weights are byte for byte those of the same run left alone. The seed is printed on failure;
    /// <c>FACEDISTILL_KILL_SEED</c> replays one.</summary>
    [Fact]
    public void KillNineAtRandomPointsResumesToTheWeightsOfAnUninterruptedRun()
    {
        if (!OperatingSystem.IsLinux())
            return;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("FACEDISTILL_KILL_SEED"), out var s) ? s : 20261202;
        var root = TestUtil.TempDir();
        var cfg = Path.Combine(root, "killed.json");
        File.WriteAllText(
            cfg,
            JsonSerializer.Serialize(Checkpointing(TestUtil.Tiny("killed", epochs: 8), 12), ConfigLoader.Json)
        );
        (Process, Task<string>) Train(string runs, bool resume)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            string[] args = [Path.Combine(AppContext.BaseDirectory, "facedistill.dll"), "train", cfg, "--runs", runs];
            foreach (var a in resume ? [.. args, "--resume", "--quiet"] : args.Append("--quiet"))
                psi.ArgumentList.Add(a);
            var p = Process.Start(psi)!;
            _ = p.StandardOutput.ReadToEndAsync();
            return (p, p.StandardError.ReadToEndAsync());
        }
        var clock = Stopwatch.StartNew();
        var (straight, _) = Train(Path.Combine(root, "straight"), resume: false);
        using (straight)
        {
            Assert.True(straight.WaitForExit(TimeSpan.FromSeconds(180)), "the uninterrupted run did not finish");
            Assert.Equal(0, straight.ExitCode);
        }
        double lifetime = clock.Elapsed.TotalMilliseconds;
        var runs = Path.Combine(root, "killed");
        var dir = Path.Combine(runs, "killed");
        // first the moment a user is most likely to hit: steps logged, no periodic checkpoint yet (every 12 steps)
        var (first, _) = Train(runs, resume: false);
        using (first)
        {
            var metrics = Path.Combine(dir, "metrics.csv");
            while (!first.HasExited && !(File.Exists(metrics) && File.ReadLines(metrics).Skip(1).Any()))
                Thread.Sleep(5);
            Assert.False(first.HasExited, "the run ended before it logged a step");
            first.Kill();
            first.WaitForExit();
        }
        var rng = new Random(seed);
        var killedAt = new List<int>();
        for (int i = 0; i < 4; i++)
        {
            var (p, _) = Train(runs, resume: RunDirectory.HasRun(dir));
            using var disposeP = p;
            int at = (int)(rng.NextDouble() * lifetime);
            Thread.Sleep(at);
            if (!p.HasExited)
            {
                p.Kill(); // SIGKILL
                killedAt.Add(at);
            }
            p.WaitForExit();
            // whatever moment it died at, what it left is a complete checkpoint or none
            if (Checkpoint.Latest(Path.Combine(dir, "checkpoints")) is { } cp)
                Checkpoint.LoadState(cp);
        }
        var (last, err) = Train(runs, resume: RunDirectory.HasRun(dir));
        using (last)
        {
            Assert.True(last.WaitForExit(TimeSpan.FromSeconds(180)), $"seed {seed}: the resumed run did not finish");
            Assert.True(
                last.ExitCode == 0,
                $"seed {seed}, killed at {string.Join(",", killedAt)} ms: exit {last.ExitCode}: {err.Result}"
            );
        }
        string Weights(string run) =>
            Convert.ToHexString(
                System.Security.Cryptography.SHA256.HashData(
                    File.ReadAllBytes(Path.Combine(Checkpoint.Latest(Path.Combine(run, "checkpoints"))!, "model.bin"))
                )
            );
        Assert.True(
            Weights(Path.Combine(root, "straight", "killed")) == Weights(dir),
            $"seed {seed}, killed at {string.Join(",", killedAt)} ms of {lifetime:F0}: the weights differ"
        );
        Assert.True(File.Exists(Path.Combine(dir, "report.json")), $"seed {seed}: no report");
    }

    private static RunSettings Checkpointing(RunSettings c, int every) =>
        c with
        {
            Train = c.Train with { CheckpointEvery = every },
        };

    /// <summary>A real full disk (a tmpfs too small for the run): training stops at the checkpoint that does not fit
    /// with one line naming it (exit 2), nothing half-written is left, the previous checkpoint is intact, and once the
    /// run has room again <c>--resume</c> ends with the weights of a run that never ran out of space.</summary>
    [TmpfsFact]
    public void AFullDiskStopsTrainingWithOneLineAndTheRunResumesToTheSameWeights()
    {
        var root = TestUtil.TempDir();
        var cfg = Path.Combine(root, "full.json");
        File.WriteAllText(cfg, JsonSerializer.Serialize(TestUtil.Tiny("full", epochs: 8), ConfigLoader.Json));
        (int, string) Train(string runs, params string[] more)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            string[] args = [Path.Combine(AppContext.BaseDirectory, "facedistill.dll"), "train", cfg, "--runs", runs];
            foreach (var a in args.Append("--quiet").Concat(more))
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            _ = p.StandardOutput.ReadToEndAsync();
            var err = p.StandardError.ReadToEndAsync();
            Assert.True(p.WaitForExit(TimeSpan.FromSeconds(180)), "training did not finish");
            return (p.ExitCode, err.Result);
        }
        Assert.Equal(0, Train(Path.Combine(root, "straight")).Item1);
        var straight = Checkpoint.Latest(Path.Combine(root, "straight", "full", "checkpoints"))!;
        long checkpoint = Directory.GetFiles(straight).Sum(f => new FileInfo(f).Length);
        // room for the run's small files and two and a half checkpoints: the third one written does not fit
        var small = Path.Combine(root, "small");
        Directory.CreateDirectory(small);
        Assert.True(TmpfsFactAttribute.Mount(small, 64 * 1024 + checkpoint * 5 / 2), "mount failed");
        var moved = Path.Combine(root, "big");
        try
        {
            var (code, err) = Train(small);
            Assert.True(code == 2, $"exit {code}: {err}");
            var line = Assert.Single(err.Split('\n').Where(l => l.StartsWith("error:", StringComparison.Ordinal)));
            Assert.Contains("No space left on device", line);
            Assert.Contains("the checkpoint cannot be written", line);
            Assert.Contains("is intact", line);
            var checkpoints = Path.Combine(small, "full", "checkpoints");
            Assert.Empty(Directory.GetFileSystemEntries(checkpoints, "*.tmp"));
            Assert.True(Checkpoint.LoadState(Checkpoint.Latest(checkpoints)!).Step > 0);
            TestUtil.CopyDirectory(small, moved);
        }
        finally
        {
            TmpfsFactAttribute.Unmount(small);
        }
        var (resumed, resumeErr) = Train(moved, "--resume");
        Assert.True(resumed == 0, resumeErr);
        Assert.Equal(
            File.ReadAllBytes(Path.Combine(straight, "model.bin")),
            File.ReadAllBytes(Path.Combine(Checkpoint.Latest(Path.Combine(moved, "full", "checkpoints"))!, "model.bin"))
        );
    }
}

/// <summary>A test that mounts a small tmpfs to fill a real disk (root in a container); skipped where mounting is
/// not allowed.</summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    private static readonly bool Allowed = Probe();

    public TmpfsFactAttribute()
    {
        if (!Allowed)
            Skip = "mounting a tmpfs is not allowed here (needs root or CAP_SYS_ADMIN): the full-disk test cannot run";
    }

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux())
            return false;
        var dir = TestUtil.TempDir();
        if (!Mount(dir, 64 * 1024))
            return false;
        Unmount(dir);
        return true;
    }

    public static bool Mount(string dir, long bytes) =>
        Run("mount", "-t", "tmpfs", "-o", $"size={(bytes + 1023) / 1024}k", "tmpfs", dir) == 0;

    public static void Unmount(string dir) => Run("umount", "-l", dir);

    private static int Run(string file, params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in args)
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            p.WaitForExit();
            return p.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1; // no mount command
        }
    }
}

/// <summary>A run directory carries what its model needs (model.json): copied where its training data is not, it
/// loads, serves and exports; only reading its data names the missing folder.</summary>
public class ModelShapeTests
{
    [Fact]
    public void ARunLoadsWithoutItsTrainingDataAndOnlyItsDataNamesTheMissingFolder()
    {
        var root = TestUtil.TempDir();
        var faces = Path.Combine(root, "faces");
        var synth = TestUtil.Faces(6, 6, 48, 3);
        for (int i = 0; i < synth.Count; i++)
        {
            var dir = Path.Combine(faces, $"id{synth.Labels(i).Identity}");
            Directory.CreateDirectory(dir);
            FaceDistill.Data.ImageCodec.Save(synth.Image(i), Path.Combine(dir, $"{i}.png"));
        }
        var tiny = TestUtil.Tiny("folder", epochs: 1);
        var cfg = tiny with
        {
            Data = tiny.Data with { Source = "folder", Path = faces, ValFraction = 0.25 },
            Train = tiny.Train with { BatchSize = 8 },
        };
        TrainingRun.Execute(cfg, root, ExistingRun.Refuse);
        var run = Path.Combine(root, "folder");
        var shape = ModelShape.Read(run)!;
        Directory.Delete(faces, recursive: true); // the run directory alone, as on a server
        using var loaded = TrainedRun.Load(run);
        Assert.Equal(shape.Classes, loaded.Classes);
        Assert.False(loaded.LazyData.IsValueCreated);
        using var x = TorchSharp.torch.zeros(1, 3, 32, 32);
        using var e = loaded.Model.Embed(x);
        Assert.Equal(32, e.shape[1]);
        var missing = Assert.Throws<FaceDistillException>(() => loaded.Data);
        Assert.Contains(faces, missing.Message);
    }
}
