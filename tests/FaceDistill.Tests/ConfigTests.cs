using FaceDistill.Config;
using FaceDistill.Core;

namespace FaceDistill.Tests;

public class ConfigTests
{
    private static string Write(string text, string ext = ".json")
    {
        var p = Path.Combine(TestUtil.TempDir(), "cfg" + ext);
        File.WriteAllText(p, text);
        return p;
    }

    [Fact]
    public void LoadsJsonAndAppliesOverrides()
    {
        var p = Write("""{ "name": "x", "train": { "epochs": 7, "optimizer": { "lr": 0.05 } } }""");
        var c = RunConfig.Load(p, ["train.epochs=3", "model.head.type=cosface", "data.augment.flip=false"]).Settings;
        Assert.Equal(3, c.Train.Epochs);
        Assert.Equal(0.05, c.Train.Optimizer.Lr);
        Assert.Equal("cosface", c.Model.Head.Type);
        Assert.False(c.Data.Augment.Flip);
    }

    [Fact]
    public void LoadsYaml()
    {
        var p = Write("name: y\ntrain:\n  epochs: 4\n  schedule:\n    milestones: [1, 2.5]\n", ".yaml");
        var c = RunConfig.Load(p).Settings;
        Assert.Equal(4, c.Train.Epochs);
        Assert.Equal([1, 2.5], c.Train.Schedule.Milestones);
    }

    [Theory]
    [InlineData("""{ "train": { "epochz": 3 } }""", "unknown key 'train.epochz'")]
    [InlineData("""{ "train": { "epochs": "ten" } }""", "key 'train.epochs' must be an integer, found \"ten\"")]
    [InlineData("""{ "train": { "epochs": 2.5 } }""", "key 'train.epochs' must be an integer")]
    [InlineData("""{ "model": { "backbone": "resnet9000" } }""", "key 'model.backbone' is 'resnet9000'")]
    [InlineData("""{ "model": { "output": "gap" } }""", "key 'model.output' is 'gap'")]
    [InlineData(
        """{ "model": { "backbone": "mobilefacenet", "output": "gdc" } }""",
        "key 'model.output' 'gdc' applies to the iresnet backbones only"
    )]
    [InlineData("""{ "train": { "batchSize": 0 } }""", "key 'train.batchSize' must be positive")]
    [InlineData("""{ "data": "synthetic" }""", "key 'data' must be an object")]
    [InlineData("""{ "name": "a", """, "malformed JSON")]
    [InlineData(
        """{ "data": { "source": "folder", "path": "/nonexistent/faces" } }""",
        "/nonexistent/faces: dataset directory not found"
    )]
    public void RejectsBadConfigsNamingTheKey(string json, string expected)
    {
        var p = Write(json);
        var e = Assert.Throws<FaceDistillException>(() => RunConfig.Load(p).Settings);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        if (!expected.StartsWith('/'))
            Assert.StartsWith(p, e.Message);
    }

    [Fact]
    public void RejectsBadOverride()
    {
        var e = Assert.Throws<FaceDistillException>(() => RunConfig.Load(null, ["train.nope=1"]).Settings);
        Assert.Contains("unknown key 'train.nope'", e.Message);
        e = Assert.Throws<FaceDistillException>(() => RunConfig.Load(null, ["train.epochs"]).Settings);
        Assert.Contains("expected key=value", e.Message);
        e = Assert.Throws<FaceDistillException>(() => RunConfig.Load(null, ["train.epochs=many"]).Settings);
        Assert.Contains("must be an integer", e.Message);
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        var e = Assert.Throws<FaceDistillException>(() => RunConfig.Load("/no/such/config.json").Settings);
        Assert.Equal("/no/such/config.json: config file not found", e.Message);
    }

    [Fact]
    public void ShippedConfigsAreValid()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !Directory.Exists(Path.Combine(dir.FullName, "configs")))
            dir = dir.Parent;
        Assert.NotNull(dir);
        var files = Directory
            .GetFiles(Path.Combine(dir!.FullName, "configs"), "*.json", SearchOption.AllDirectories)
            .Where(f => TestUtil.Shared() is not null || !File.ReadAllText(f).Contains("../shared"))
            .ToArray();
        Assert.NotEmpty(files);
        var cwd = Environment.CurrentDirectory;
        try
        {
            // configs name ../shared relative to the repository root, where they are run from
            Environment.CurrentDirectory = dir.FullName;
            foreach (var f in files)
            {
                // experiments check every run's config (teacher directories, which only exist once trained, aside);
                // single-run configs that distil from a run are checked with runs/ taken as planned (no runs/ in a
                // clone)
                if (ExperimentPlan.IsPlan(f))
                    ExperimentPlan.Load(f);
                else
                    RunConfig.Resolve(
                        ConfigLoader.Load(f),
                        f,
                        planned: p => p.StartsWith("runs/", StringComparison.Ordinal)
                    );
            }
        }
        finally
        {
            Environment.CurrentDirectory = cwd;
        }
    }

    [Fact]
    public void ResolvedConfigRoundTrips()
    {
        var c = RunConfig.Load(null, ["name=rt", "train.epochs=2"]).Settings;
        var p = Write(ConfigLoader.ToJson(c));
        Assert.Equal(ConfigLoader.ToJson(c), ConfigLoader.ToJson(RunConfig.Load(p).Settings));
    }
}

public class DemoConfigTests
{
    [Fact]
    public void BuiltInDemoEqualsConfigsDemoJson()
    {
        // configs/demo.json documents what `facedistill demo` runs: they must not drift apart
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !Directory.Exists(Path.Combine(dir.FullName, "configs")))
            dir = dir.Parent;
        var fromFile = RunConfig.Load(Path.Combine(dir!.FullName, "configs", "demo.json")).Settings;
        var builtIn = FaceDistill.Runs.Demo.Config(quick: false) with { Description = fromFile.Description };
        Assert.Equal(FaceDistill.Config.ConfigLoader.ToJson(builtIn), FaceDistill.Config.ConfigLoader.ToJson(fromFile));
    }
}
