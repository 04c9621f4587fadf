using System.Text.Json.Nodes;
using FaceDistill.Config;
using FaceDistill.Experiments;

namespace FaceDistill.Tests;

/// <summary>Every shipped plan keeps resolving every run to the config it resolved to when the fixture was written
/// (<c>Fixtures/resolved-plans/</c>: one line per run, its resolved config.json for the plan's first seed). A plan
/// rewritten with presets and <c>from</c> must give each run the same settings, so its table is reproduced. Regenerate
/// the fixtures only for an intended change: <c>FACEDISTILL_WRITE_FIXTURES=1</c>.</summary>
public class ShippedPlanTests
{
    private static string FixtureDir =>
        Path.Combine(RepoPaths.Root(), "tests", "FaceDistill.Tests", "Fixtures", "resolved-plans");

    public static IEnumerable<object[]> Plans() =>
        Directory
            .GetFiles(Path.Combine(RepoPaths.Root(), "configs"), "*.json", SearchOption.AllDirectories)
            .Where(ExperimentPlan.IsPlan)
            // plans over real datasets are checked where ../shared is (CI); the synthetic ones everywhere
            .Where(f => TestUtil.Shared() is not null || !File.ReadAllText(f).Contains("../shared"))
            .Select(f => new object[] { Path.GetRelativePath(RepoPaths.Root(), f).Replace('\\', '/') })
            .OrderBy(a => (string)a[0], StringComparer.Ordinal);

    [Theory]
    [MemberData(nameof(Plans))]
    public void EveryRunResolvesAsBefore(string plan)
    {
        var cwd = Environment.CurrentDirectory;
        List<string> lines;
        try
        {
            // plans name ../shared relative to the repository root, where they are run from
            Environment.CurrentDirectory = RepoPaths.Root();
            var p = ExperimentPlan.Load(plan);
            lines = p
                .Runs.Select(r =>
                    r.Name
                    + "\t"
                    + JsonNode
                        .Parse(ConfigLoader.ToJson(p.Config(r, p.Seeds[0], "runs", false).Settings))!
                        .ToJsonString()
                )
                .ToList();
        }
        finally
        {
            Environment.CurrentDirectory = cwd;
        }
        var fixture = Path.Combine(FixtureDir, plan.Replace('/', '_') + "l");
        if (Environment.GetEnvironmentVariable("FACEDISTILL_WRITE_FIXTURES") == "1")
        {
            Directory.CreateDirectory(FixtureDir);
            File.WriteAllLines(fixture, lines);
            return;
        }
        Assert.True(File.Exists(fixture), $"{fixture} is missing (FACEDISTILL_WRITE_FIXTURES=1 writes it)");
        var expected = File.ReadAllLines(fixture).Select(l => l.Split('\t', 2)).ToDictionary(a => a[0], a => a[1]);
        Assert.Equal(
            expected.Keys.Order(StringComparer.Ordinal),
            lines.Select(l => l.Split('\t')[0]).Order(StringComparer.Ordinal)
        );
        foreach (var l in lines)
        {
            var (name, json) = (l.Split('\t', 2)[0], l.Split('\t', 2)[1]);
            Assert.True(
                JsonNode.DeepEquals(JsonNode.Parse(expected[name]), JsonNode.Parse(json)),
                $"{plan}: run '{name}' resolves differently:\n  before {expected[name]}\n  now    {json}"
            );
        }
    }
}
