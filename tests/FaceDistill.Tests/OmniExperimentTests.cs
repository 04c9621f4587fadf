using System.Text.Json.Nodes;
using FaceDistill.Core;
using FaceDistill.Experiments;

namespace FaceDistill.Tests;

/// <summary>The omni-supervised experiment: derive steps in plans, checked before anything runs, and the synthetic
/// configuration end to end at a tiny size.</summary>
public class OmniExperimentTests
{
    private const string Base =
        "\"base\": { \"task\": \"expression\", \"data\": { \"imageSize\": 32, \"labelledFraction\": 0.3 } }";

    private static string Plan(string derive, string runs) =>
        $"{{ \"name\": \"o\", {Base}, \"baseline\": \"lab\", \"seeds\": [1], \"derive\": [{derive}], "
        + $"\"runs\": [{runs}] }}";

    private const string Mine = "{ \"name\": \"mined\", \"mine\": { \"model\": \"lab\", \"unlabelled\": true } }";

    private static string Err(string body)
    {
        var dir = TestUtil.TempDir();
        return Assert.Throws<FaceDistillException>(() => ExperimentPlan.Load(ExperimentTests.Plan(dir, body))).Message;
    }

    [Fact]
    public void DeriveStepsAreCheckedBeforeAnythingRuns()
    {
        var dir = TestUtil.TempDir();
        var plan = ExperimentPlan.Load(
            ExperimentTests.Plan(
                dir,
                Plan(
                    Mine
                        + ", { \"name\": \"dm\", \"condense\": { \"from\": \"mined\", \"model\": \"lab\", "
                        + "\"imagesPerClass\": 3 } }",
                    "{ \"name\": \"lab\" }, { \"name\": \"m\", \"set\": { \"data.extra\": [\"#dm\"] } }"
                )
            )
        );
        Assert.Equal(["mined", "dm"], plan.DerivedFor(plan.Run("m")).Select(d => d.Name));
        Assert.Equal(3, plan.DeriveStep("dm").Condense!.ImagesPerClass);
        var cfg = plan.Config(plan.Run("m"), 1, "/r", checkFiles: false).Settings;
        Assert.Equal([Path.Combine("/r", "o", "derived", "dm-s1")], cfg.Data.Extra);
        Assert.Contains(
            "'#nope' is not a derive entry",
            Err(Plan(Mine, "{ \"name\": \"lab\" }, { \"name\": \"m\", \"set\": { \"data.extra\": [\"#nope\"] } }"))
        );
        Assert.Contains(
            "listed after it",
            Err(Plan(Mine, "{ \"name\": \"m\", \"set\": { \"data.extra\": [\"#mined\"] } }, { \"name\": \"lab\" }"))
        );
        Assert.Contains(
            "model 'x' is not a trained run",
            Err(
                Plan(
                    "{ \"name\": \"mined\", \"mine\": { \"model\": \"x\", \"unlabelled\": true } }",
                    "{ \"name\": \"lab\" }"
                )
            )
        );
        Assert.Contains(
            "nothing to mine",
            Err(Plan("{ \"name\": \"mined\", \"mine\": { \"model\": \"lab\" } }", "{ \"name\": \"lab\" }"))
        );
        Assert.Contains(
            "mine.minConfidence must be in [0, 1]",
            Err(
                Plan(
                    "{ \"name\": \"mined\", \"mine\": { \"model\": \"lab\", \"unlabelled\": true, "
                        + "\"minConfidence\": 2 } }",
                    "{ \"name\": \"lab\" }"
                )
            )
        );
        Assert.Contains(
            "derive 'mined'",
            Err(
                Plan(
                    "{ \"name\": \"mined\", \"mine\": { \"model\": \"lab\", \"unlabelled\": true, \"kk\": 2 } }",
                    "{ \"name\": \"lab\" }"
                )
            )
        );
        Assert.Contains(
            "neither 'labelled' nor an earlier derive entry",
            Err(
                Plan(
                    "{ \"name\": \"d\", \"condense\": { \"model\": \"lab\", \"from\": \"later\" } }",
                    "{ \"name\": \"lab\" }"
                )
            )
        );
        Assert.Contains(
            "face-pool folder not found",
            Err(
                Plan(
                    "{ \"name\": \"mined\", \"mine\": { \"model\": \"lab\", \"pool\": [\"/no/such/pool\"] } }",
                    "{ \"name\": \"lab\" }"
                )
            )
        );
        // the labelled budget and extra folders belong to the classification tasks
        Assert.Contains(
            "data.labelledFraction",
            Err(
                $"{{ \"name\": \"o\", \"base\": {{ \"data\": {{ \"labelledFraction\": 0.5 }} }}, \"baseline\": \"a\", "
                    + "\"runs\": [{ \"name\": \"a\" }] }"
            )
        );
    }

    [Fact]
    public void OnlyKeepsTheNamedRowsAndWhatTheyNeed()
    {
        var dir = TestUtil.TempDir();
        var plan = ExperimentPlan.Load(
            ExperimentTests.Plan(
                dir,
                Plan(
                    Mine + ", { \"name\": \"dm\", \"condense\": { \"from\": \"mined\", \"model\": \"prim\" } }",
                    "{ \"name\": \"lab\" }, { \"name\": \"prim\", \"set\": { \"train.init\": \"@lab\" } }, "
                        + "{ \"name\": \"m\", \"set\": { \"data.extra\": [\"#dm\"] } }, { \"name\": \"z\" }"
                )
            )
        );
        // m reads dm (condensed with prim, from mined, mined with lab); prim starts from lab; z is not needed
        Assert.Equal(["lab", "prim", "m"], plan.Only(["m"]).Runs.Select(r => r.Name));
        Assert.Equal(["lab", "z"], plan.Only(["z"]).Runs.Select(r => r.Name));
        Assert.Equal(["m"], plan.Only(["m"]).Subset);
        Assert.Null(plan.Subset);
        var e = Assert.Throws<FaceDistillException>(() => plan.Only(["nope"]));
        Assert.Contains("--only: 'nope' is not a run of the plan (lab, prim, m, z)", e.Message);
    }

    [Fact]
    public void TheSyntheticOmniExperimentRunsEndToEndAndIsReusedOnRerun()
    {
        var runs = TestUtil.TempDir();
        var plan = Path.Combine(RepoPaths.Root(), "configs", "omni", "synthetic.json");
        string[] args =
        [
            "experiment",
            plan,
            "--runs",
            runs,
            "--quiet",
            "--threads",
            "2",
            "--set",
            "data.synthetic.identities=14",
            "--set",
            "data.synthetic.imagesPerIdentity=6",
            "--set",
            "data.synthetic.valIdentities=3",
            "--set",
            "data.synthetic.valImagesPerIdentity=6",
            "--set",
            "train.batchSize=16",
            "--set",
            "train.epochs=1",
            "--set",
            "train.schedule.warmupEpochs=0.2",
        ];
        // the derive steps are shrunk through a copy of the plan (their keys are not base-config keys)
        var node = JsonNode.Parse(File.ReadAllText(plan))!.AsObject();
        foreach (var d in node["derive"]!.AsArray())
            if (d!["mine"] is JsonObject m)
            {
                // a one-epoch primitive model is barely trained: accept whatever it gives, up to the quotas
                m["minConfidence"] = 0;
                m["minSimilarity"] = -1;
                m["minVote"] = 0;
            }
            else if (d!["condense"] is JsonObject c)
            {
                c["imagesPerClass"] = 2;
                c["iterations"] = 2;
                c["outerLoop"] = 2;
                c["innerLoop"] = 1;
                c["realBatch"] = 8;
                c["netWidth"] = 8;
            }
        // a cross-dataset test folder (class = folder): other synthetic people, written to disk
        var cross = Path.Combine(runs, "cross");
        var other = TestUtil.Faces(4, 5, 48, 99);
        var names = DerivedSets.ClassNames(FaceDistill.Data.FaceTask.Expression);
        FaceDistill.Omni.FaceSetWriter.Write(
            cross,
            names,
            Enumerable
                .Range(0, other.Count)
                .Select(i => ((Func<FaceDistill.Data.RgbImage>)(() => other.Image(i)), other.Labels(i).Expression))
                .ToList()
        );
        node["crossTests"] = new JsonObject { ["synthcross"] = cross };
        var small = Path.Combine(runs, "omni-synthetic.json");
        File.WriteAllText(small, node.ToJsonString());
        args[1] = small;
        var (code, _, err) = CliHarness.Run(args);
        Assert.True(code == 0, err);
        var dir = Path.Combine(runs, "omni-synthetic");
        var md = File.ReadAllText(Path.Combine(dir, "results.md"));
        foreach (
            var row in new[]
            {
                "**labelled** (baseline)",
                "| mined |",
                "| dm-10 |",
                "| gm-10 |",
                "| gm-10-soft |",
                "| random-10-soft |",
                "| herding-10 |",
            }
        )
            Assert.Contains(row, md);
        Assert.Contains("### Derived training sets", md);
        Assert.Contains("acc (synthcross)", md);
        var labelledRow = md.Split('\n').First(l => l.StartsWith("| **labelled**"));
        // "", the label, 3 columns × (metric, p, balanced accuracy), the training time, ""
        Assert.Equal(2 + 3 * 3 + 2, labelledRow.Split('|').Length);
        var mined = Path.Combine(dir, "derived", "mined-s1");
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(mined, DerivedSets.SummaryFile)))!["summary"]!;
        double precision = summary["Precision"]!.GetValue<double>();
        Assert.InRange(precision, 0, 1); // the remainder's labels are known: precision is measured
        Assert.True(File.Exists(Path.Combine(mined, "grid.png")));
        int minedImages = Directory.GetFiles(mined, "*.png", SearchOption.AllDirectories).Length - 1;
        Assert.Equal(summary["PerClass"]!.AsArray().Sum(x => x!.GetValue<int>()), minedImages);
        Assert.Equal(minedImages + 1, File.ReadAllLines(Path.Combine(mined, "mined.csv")).Length);
        var dm = Path.Combine(dir, "derived", "dm-10-s1");
        Assert.True(File.Exists(Path.Combine(dm, "loss.png")));
        Assert.False(Directory.Exists(dm + ".state")); // the snapshot is dropped once the set is written
        // soft labels (learned by gradient matching; the primitive model's posterior for a random subset) are
        // written beside the images, one distribution per image, and read back by training
        foreach (var set in new[] { "gm-10-soft-s1", "random-10-soft-s1" })
        {
            var setDir = Path.Combine(dir, "derived", set);
            var soft = FaceDistill.Data.SoftLabels.Read(
                Path.Combine(setDir, FaceDistill.Data.SoftLabels.FileName),
                names
            );
            int images = Directory.GetDirectories(setDir).Sum(d => Directory.GetFiles(d, "*.png").Length);
            Assert.True(images > 0 && soft.Count == images, $"{set}: {soft.Count} soft labels for {images} images");
            var read = FaceDistill.Data.FileFaceDataset.FromImageFolder(setDir, FaceDistill.Data.FaceTask.Expression);
            Assert.All(Enumerable.Range(0, read.Count), i => Assert.NotNull(read.Labels(i).Soft));
            // not one-hot: a learned or a model's label spreads over the classes
            Assert.Contains(soft.Values, q => q.Max() < 0.999f);
        }
        // the student reads the condensed images as extra data: its training set is the budget + 2 per class at most
        var cfg = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "dm-10-s1", "config.json")))!;
        Assert.Equal(dm, cfg["data"]!["extra"]![0]!.GetValue<string>());
        // a rerun of one row (--only) reuses its runs and derived sets, and writes its own table beside the whole one
        var stamp = File.GetLastWriteTimeUtc(Path.Combine(mined, DerivedSets.SummaryFile));
        var whole = File.GetLastWriteTimeUtc(Path.Combine(dir, "results.md"));
        var (code2, _, err2) = CliHarness.Run([.. args, "--only", "gm-10-soft"]);
        Assert.True(code2 == 0, err2);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(mined, DerivedSets.SummaryFile)));
        Assert.Equal(whole, File.GetLastWriteTimeUtc(Path.Combine(dir, "results.md")));
        var part = File.ReadAllText(Path.Combine(dir, "results-only.md"));
        Assert.Contains("| gm-10-soft |", part);
        Assert.Contains("**labelled** (baseline)", part);
        Assert.DoesNotContain("| dm-10 |", part);
        Assert.Contains("--only gm-10-soft", part);
    }
}
