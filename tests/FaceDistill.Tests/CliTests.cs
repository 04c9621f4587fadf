using FaceDistill.Cli;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace FaceDistill.Tests;

public class CliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliHarness.Run(args);

    [Fact]
    public void QuickDemoTrainsAndPrintsItsTable()
    {
        var runs = TestUtil.TempDir();
        var (code, output, err) = Run("demo", "--quick", "--runs", runs, "--quiet", "--threads", "2");
        Assert.True(code == 0, err);
        Assert.Contains("verification acc", output);
        Assert.Contains("tar@far=0.1", output);
        Assert.True(File.Exists(Path.Combine(runs, "demo-quick", "report.md")));
        Assert.True(File.Exists(Path.Combine(runs, "demo-quick", "metrics.csv")));
    }

    [Fact]
    public void BadConfigGivesOneLineErrorAndExitCode2()
    {
        var dir = TestUtil.TempDir();
        var cfg = Path.Combine(dir, "bad.json");
        File.WriteAllText(cfg, """{ "train": { "epochs": -1 } }""");
        var (code, _, err) = Run("train", cfg, "--runs", dir);
        Assert.Equal(2, code);
        Assert.Equal($"error: {cfg}: key 'train.epochs' must be positive, found -1", err.Trim());
        (code, _, err) = Run("train", Path.Combine(dir, "missing.yaml"), "--runs", dir);
        Assert.Equal(2, code);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains("missing.yaml: config file not found", err);
    }

    [Fact]
    public void AValueOfTheWrongTypeIsOneLineAndExitCode2()
    {
        var (code, output, err) = Run("experiment", "configs/omni/synthetic.json", "--seeds", "1,2");
        Assert.Equal(2, code);
        Assert.Equal(
            "error: Cannot parse argument '1,2' for option '--seeds' as expected type 'System.Int32'.",
            err.Trim()
        );
        Assert.Equal("", output);
        (code, _, err) = Run("train", "--no-such-option");
        Assert.Equal(2, code);
        Assert.Single(err.Trim().Split('\n'));
        Assert.StartsWith("error: ", err);
    }

    [Fact]
    public void TrainWithOverridesThenEvalTheCheckpoint()
    {
        var dir = TestUtil.TempDir();
        var cfg = Path.Combine(dir, "tiny.json");
        File.WriteAllText(
            cfg,
            System.Text.Json.JsonSerializer.Serialize(
                TestUtil.Tiny("cli-tiny", 1),
                FaceDistill.Config.ConfigLoader.Json
            )
        );
        var (code, output, err) = Run(
            "train",
            cfg,
            "--runs",
            dir,
            "--quiet",
            "--set",
            "train.epochs=1",
            "--set",
            "name=cli-run"
        );
        Assert.True(code == 0, err);
        Assert.True(Directory.Exists(Path.Combine(dir, "cli-run", "checkpoints")));
        (code, _, err) = Run("train", cfg, "--runs", dir, "--quiet", "--set", "name=cli-run");
        Assert.Equal(2, code);
        Assert.Contains("already exists", err);
        var calibration = Path.Combine(dir, "cli-run", "calibration.json");
        var trained = File.ReadAllText(calibration);
        (code, output, err) = Run("eval", "--run", Path.Combine(dir, "cli-run"), "--quiet", "--view", "lowres:8");
        Assert.True(code == 0, err);
        Assert.Contains("verification acc", output);
        // a diagnostic evaluation leaves the run's threshold alone; --calibrate replaces it
        Assert.Contains("not saved", output);
        Assert.Equal(trained, File.ReadAllText(calibration));
        (code, output, err) = Run(
            "eval",
            "--run",
            Path.Combine(dir, "cli-run"),
            "-q",
            "--view",
            "lowres:8",
            "--calibrate"
        );
        Assert.True(code == 0, err);
        Assert.Contains("lowres:8", File.ReadAllText(calibration));
    }

    [Fact]
    public void CompareEvaluatesRunsOnTheSamePairsWithPValues()
    {
        var dir = TestUtil.TempDir();
        FaceDistill.Runs.TrainingRun.Execute(TestUtil.Tiny("a", 1), dir, FaceDistill.Runs.ExistingRun.Refuse);
        FaceDistill.Runs.TrainingRun.Execute(TestUtil.Tiny("b", 2), dir, FaceDistill.Runs.ExistingRun.Refuse);
        var md = Path.Combine(dir, "table.md");
        var (code, output, err) = Run(
            "compare",
            Path.Combine(dir, "a"),
            Path.Combine(dir, "b"),
            "--out",
            md,
            "--quiet"
        );
        Assert.True(code == 0, err);
        Assert.Contains("mcnemar", output);
        Assert.Contains("| b | acc |", File.ReadAllText(md));
        (code, _, err) = Run("compare", Path.Combine(dir, "a"), Path.Combine(dir, "nope"));
        Assert.Equal(2, code);
        Assert.Contains("nope: not a FaceDistill run directory", err);
    }

    [Fact]
    public void ModelsStatsPrintsEveryBackbone()
    {
        var (code, output, _) = Run(
            "models",
            "stats",
            "--size",
            "64",
            "--embedding",
            "128",
            "--backbone",
            "mobilefacenet"
        );
        Assert.Equal(0, code);
        Assert.Contains("mobilefacenet", output);
        Assert.Contains("64×64", output);
    }

    [Fact]
    public void SynthWritesAReadableDataset()
    {
        var dir = Path.Combine(TestUtil.TempDir(), "faces");
        var (code, _, err) = Run("synth", dir, "--identities", "3", "--images", "2", "--size", "48", "--quiet");
        Assert.True(code == 0, err);
        var ds = FaceDistill.Data.FileFaceDataset.FromCsv(Path.Combine(dir, "labels.csv"));
        Assert.Equal(6, ds.Count);
        Assert.Equal(48, ds.Image(0).Width);
        (code, _, err) = Run("synth", dir, "--quiet");
        Assert.Equal(2, code);
        Assert.Contains("not empty", err);
    }
}
