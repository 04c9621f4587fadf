using FaceDistill.Cli;
using FaceDistill.Config;
using FaceDistill.Core;

namespace FaceDistill.Tests;

public class ExperimentTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliHarness.Run(args);

    private static string Plan(string dir, string body)
    {
        var path = Path.Combine(dir, "plan.json");
        File.WriteAllText(path, body);
        return path;
    }

    private const string Base = "\"base\": { \"task\": \"expression\", \"data\": { \"imageSize\": 32, \"view\": \"occluded:vr\" } }";

    [Fact]
    public void PlansAreCheckedBeforeAnythingRuns()
    {
        var dir = TestUtil.TempDir();
        var ok = ExperimentPlan.Load(Plan(dir, $"{{ \"name\": \"x\", {Base}, \"baseline\": \"ft\", \"seeds\": [1, 2], " +
            "\"runs\": [ { \"name\": \"t\", \"reference\": true, \"set\": { \"data.view\": \"clean\" } }, { \"name\": \"ft\", \"set\": { \"train.init\": \"@t\" } } ] }"));
        Assert.Equal([1, 2], ok.Seeds);
        Assert.True(ok.Runs[0].Reference);
        var cfg = ok.Config(ok.Runs[1], 2, "/r", checkFiles: false);
        Assert.Equal("ft-s2", cfg.Name);
        Assert.Equal(2, cfg.Train.Seed);
        Assert.Equal("occluded:vr", cfg.Data.View);

        string Err(string body) => Assert.Throws<FaceDistillException>(() => ExperimentPlan.Load(Plan(dir, body))).Message;
        Assert.Contains("baseline 'nope'", Err($"{{ \"name\": \"x\", {Base}, \"baseline\": \"nope\", \"runs\": [ {{ \"name\": \"ft\" }} ] }}"));
        Assert.Contains("'@later' does not name an earlier run", Err($"{{ \"name\": \"x\", {Base}, \"baseline\": \"ft\", \"runs\": [ {{ \"name\": \"ft\", \"set\": {{ \"train.init\": \"@later\" }} }} ] }}"));
        Assert.Contains("unknown key 'runz'", Err($"{{ \"name\": \"x\", {Base}, \"baseline\": \"ft\", \"runz\": [] }}"));
        Assert.Contains("data.view", Err($"{{ \"name\": \"x\", {Base}, \"baseline\": \"ft\", \"runs\": [ {{ \"name\": \"ft\", \"set\": {{ \"data.view\": \"occluded:hat\" }} }} ] }}"));
        Assert.Contains("malformed JSON", Err("{ \"name\": "));
        Assert.Contains("combine.c", Err($"{{ \"name\": \"x\", {Base}, \"baseline\": \"ft\", \"runs\": [ {{ \"name\": \"ft\" }} ], \"combine\": [ {{ \"name\": \"c\", \"of\": [\"ft\", \"zz\"] }} ] }}"));
    }

    [Fact]
    public void TheSyntheticOcclusionExperimentRunsEndToEndAndIsReusedOnRerun()
    {
        var runs = TestUtil.TempDir();
        var plan = Path.Combine(RepoPaths.Root(), "configs", "occlusion", "synthetic.json");
        string[] args =
        [
            "experiment", plan, "--runs", runs, "--quiet", "--threads", "2", "--seeds", "1",
            "--set", "data.imageSize=32", "--set", "data.synthetic.identities=8", "--set", "data.synthetic.imagesPerIdentity=4",
            "--set", "data.synthetic.valIdentities=3", "--set", "data.synthetic.valImagesPerIdentity=4", "--set", "data.synthetic.renderSize=48",
            "--set", "train.batchSize=16", "--set", "train.epochs=1", "--set", $"distill.cacheDir={Path.Combine(runs, "cache")}",
        ];
        var (code, output, err) = Run(args);
        Assert.True(code == 0, err);
        var dir = Path.Combine(runs, "occlusion-synthetic");
        foreach (var f in new[] { "results.md", "results.csv", "results.png" }) Assert.True(File.Exists(Path.Combine(dir, f)), f);
        var md = File.ReadAllText(Path.Combine(dir, "results.md"));
        foreach (var row in new[] { "teacher (reference)", "**finetune** (baseline)", "| kd |", "| triplet |", "kd+triplet (combined)", "kd+triplet+finetune (combined)" })
            Assert.Contains(row, md);
        Assert.Contains("acc (occluded:vr)", md);
        Assert.Contains("acc (clean)", md);
        // every non-baseline, non-reference row carries a p-value (a number, not a dash)
        var kdRow = md.Split('\n').First(l => l.StartsWith("| kd |"));
        Assert.Matches(@"\| kd \| [\d.]+ \| [\d.e+-]+ \|", kdRow);
        var csv = File.ReadAllLines(Path.Combine(dir, "results.csv"));
        Assert.StartsWith("method,kind,view,seed,", csv[0]);
        Assert.Equal(1 + 2 * (1 + 3 + 2), csv.Length); // 2 views × (teacher + 3 runs + 2 combinations), one seed
        // fine-tuned runs start from the teacher's weights
        Assert.Contains("\"init\":", File.ReadAllText(Path.Combine(dir, "kd-s1", "config.json")));
        // a second invocation reuses the finished runs and reproduces the table
        var mdBefore = md;
        (code, _, err) = Run(args);
        Assert.True(code == 0, err);
        Assert.DoesNotContain("resuming", err); // finished runs are reused, not resumed or retrained
        Assert.Equal(Strip(mdBefore), Strip(File.ReadAllText(Path.Combine(dir, "results.md"))));
    }

    /// <summary>The table without the training-time column (reused runs report the time they took when they ran).</summary>
    private static string Strip(string md) => string.Join('\n', md.Split('\n').Select(l => l.StartsWith('|') ? l[..l.TrimEnd().TrimEnd('|').LastIndexOf('|')] : l));
}

public class RecognitionExperimentTests
{
    [Fact]
    public void TheSyntheticRecognitionKdExperimentRunsEndToEnd()
    {
        var runs = TestUtil.TempDir();
        var plan = Path.Combine(RepoPaths.Root(), "configs", "recognition", "synthetic-methods.json");
        var (code, _, err) = CliHarness.Run(
                "experiment", plan, "--runs", runs, "--quiet", "--threads", "2", "--seeds", "1",
                "--set", "data.imageSize=32", "--set", "data.synthetic.identities=6", "--set", "data.synthetic.imagesPerIdentity=4",
                "--set", "data.synthetic.valIdentities=4", "--set", "data.synthetic.valImagesPerIdentity=3", "--set", "data.synthetic.renderSize=48",
                "--set", "train.batchSize=12", "--set", "train.epochs=1", "--set", "eval.pairsPerFold=3", "--set", $"distill.cacheDir={Path.Combine(runs, "cache")}");
        Assert.True(code == 0, err);
        var md = File.ReadAllText(Path.Combine(runs, "recognition-kd-synthetic", "results.md"));
        foreach (var row in new[] { "teacher (reference)", "**student** (baseline)", "| kd |", "| feature |", "| gkd |", "| ddl |", "| multiface |" })
            Assert.Contains(row, md);
        foreach (var view in new[] { "acc (clean)", "acc (lowres:16)", "acc (occluded:mask)" }) Assert.Contains(view, md);
        Assert.Contains("tar@far=0.01", md);
    }
}
