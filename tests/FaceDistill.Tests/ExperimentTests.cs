using System.Globalization;
using FaceDistill.Cli;
using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Evaluation;
using FaceDistill.Runs;

namespace FaceDistill.Tests;

public class ExperimentTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliHarness.Run(args);

    internal static string Plan(string dir, string body)
    {
        var path = Path.Combine(dir, "plan.json");
        File.WriteAllText(path, body);
        return path;
    }

    internal const string Base =
        "\"base\": { \"task\": \"expression\", \"data\": { \"imageSize\": 32, \"view\": \"occluded:vr\" } }";

    [Fact]
    public void ARunStartsFromAPresetOrAnEarlierRunAndStatesOnlyWhatDiffers()
    {
        var dir = TestUtil.TempDir();
        var plan = ExperimentPlan.Load(
            Plan(
                dir,
                $"{{ \"name\": \"x\", {Base}, \"baseline\": \"a\", "
                    + "\"presets\": { \"short\": { \"set\": { \"train.epochs\": 2, \"train.batchSize\": 8 } }, "
                    + "\"shorter\": { \"from\": \"short\", \"set\": { \"train.epochs\": 1 } } }, "
                    + "\"runs\": [ { \"name\": \"a\", \"from\": \"shorter\" }, "
                    + "{ \"name\": \"b\", \"from\": \"a\", \"set\": { \"data.view\": \"clean\" } } ] }"
            )
        );
        var a = plan.Config(plan.Run("a"), 1, "/r", checkFiles: false).Settings;
        var b = plan.Config(plan.Run("b"), 1, "/r", checkFiles: false).Settings;
        Assert.Equal((1, 8, "occluded:vr"), (a.Train.Epochs, a.Train.BatchSize, a.Data.View));
        Assert.Equal((1, 8, "clean"), (b.Train.Epochs, b.Train.BatchSize, b.Data.View));
        Assert.Equal(["train.batchSize", "train.epochs", "data.view"], plan.Run("b").Set.Select(kv => kv.Key));

        string Err(string presets, string runs) =>
            Assert
                .Throws<FaceDistillException>(() =>
                    ExperimentPlan.Load(
                        Plan(
                            dir,
                            $"{{ \"name\": \"x\", {Base}, \"baseline\": \"a\", \"presets\": {presets}, "
                                + $"\"runs\": {runs} }}"
                        )
                    )
                )
                .Message;
        Assert.Contains(
            "runs.a.from: 'nope' is neither a preset nor an earlier trained run",
            Err("{}", "[ { \"name\": \"a\", \"from\": \"nope\" } ]")
        );
        Assert.Contains(
            "presets.p.from: 'q' is not an earlier preset",
            Err("{ \"p\": { \"from\": \"q\" } }", "[ { \"name\": \"a\" } ]")
        );
        Assert.Contains(
            "runs: 'a' is also the name of a preset",
            Err("{ \"a\": { \"set\": {} } }", "[ { \"name\": \"a\" } ]")
        );
        Assert.Contains("presets.p: unknown key 'sett'", Err("{ \"p\": { \"sett\": {} } }", "[ { \"name\": \"a\" } ]"));
        Assert.Contains(
            "'@t' does not name an earlier run",
            Err("{ \"p\": { \"set\": { \"train.init\": \"@t\" } } }", "[ { \"name\": \"a\", \"from\": \"p\" } ]")
        );
    }

    [Fact]
    public void PlansAreCheckedBeforeAnythingRuns()
    {
        var dir = TestUtil.TempDir();
        var ok = ExperimentPlan.Load(
            Plan(
                dir,
                $"{{ \"name\": \"x\", {Base}, \"baseline\": \"ft\", \"seeds\": [1, 2], "
                    + "\"runs\": [ { \"name\": \"t\", \"reference\": true, \"set\": { \"data.view\": \"clean\" } }, { "
                    + "\"name\": \"ft\", \"set\": { \"train.init\": \"@t\" } } ] }"
            )
        );
        Assert.Equal([1, 2], ok.Seeds);
        Assert.True(ok.Runs[0].Reference);
        var cfg = ok.Config(ok.Runs[1], 2, "/r", checkFiles: false).Settings;
        Assert.Equal("ft-s2", cfg.Name);
        Assert.Equal(2, cfg.Train.Seed);
        Assert.Equal("occluded:vr", cfg.Data.View);

        string Err(string body) =>
            Assert.Throws<FaceDistillException>(() => ExperimentPlan.Load(Plan(dir, body))).Message;
        Assert.Contains(
            "baseline 'nope'",
            Err($"{{ \"name\": \"x\", {Base}, \"baseline\": \"nope\", \"runs\": [ {{ \"name\": \"ft\" }} ] }}")
        );
        Assert.Contains(
            "'@later' does not name an earlier run",
            Err(
                $"{{ \"name\": \"x\", {Base}, \"baseline\": \"ft\", \"runs\": [ {{ \"name\": \"ft\", \"set\": {{ "
                    + $"\"train.init\": \"@later\" }} }} ] }}"
            )
        );
        Assert.Contains(
            "unknown key 'runz'",
            Err($"{{ \"name\": \"x\", {Base}, \"baseline\": \"ft\", \"runz\": [] }}")
        );
        Assert.Contains(
            "data.view",
            Err(
                $"{{ \"name\": \"x\", {Base}, \"baseline\": \"ft\", \"runs\": [ {{ \"name\": \"ft\", \"set\": {{ "
                    + $"\"data.view\": \"occluded:hat\" }} }} ] }}"
            )
        );
        Assert.Contains("malformed JSON", Err("{ \"name\": "));
        // the sides of a pair (@both, @one) are a verification protocol: refused for an expression plan, and an unknown
        // suffix is read as a view and refused
        Assert.Contains(
            "views: 'occluded:mask@both': the sides of a pair",
            Err(
                $"{{ \"name\": \"x\", {Base}, \"baseline\": \"ft\", \"views\": [\"occluded:mask@both\"], "
                    + "\"runs\": [ { \"name\": \"ft\" } ] }"
            )
        );
        Assert.Contains(
            "views:",
            Err(
                $"{{ \"name\": \"x\", {Base}, \"baseline\": \"ft\", \"views\": [\"occluded:mask@all\"], "
                    + "\"runs\": [ { \"name\": \"ft\" } ] }"
            )
        );
        Assert.Contains(
            "combine.c",
            Err(
                $"{{ \"name\": \"x\", {Base}, \"baseline\": \"ft\", \"runs\": [ {{ \"name\": \"ft\" }} ], "
                    + $"\"combine\": [ {{ \"name\": \"c\", \"of\": [\"ft\", \"zz\"] }} ] }}"
            )
        );
        Assert.Contains(
            "combine.c.baseline",
            Err(
                $"{{ \"name\": \"x\", {Base}, \"baseline\": \"ft\", \"runs\": [ {{ \"name\": \"ft\" }} ], "
                    + $"\"combine\": [ {{ \"name\": \"c\", \"of\": [\"ft\", \"ft\"], \"baseline\": \"zz\" }} ] }}"
            )
        );
    }

    [Fact]
    public void TheSyntheticOcclusionExperimentRunsEndToEndAndIsReusedOnRerun()
    {
        var runs = TestUtil.TempDir();
        var plan = Path.Combine(RepoPaths.Root(), "configs", "occlusion", "synthetic.json");
        string[] args =
        [
            "experiment",
            plan,
            "--runs",
            runs,
            "--quiet",
            "--threads",
            "2",
            "--seeds",
            "1",
            "--set",
            "data.imageSize=32",
            "--set",
            "data.synthetic.identities=8",
            "--set",
            "data.synthetic.imagesPerIdentity=4",
            "--set",
            "data.synthetic.valIdentities=3",
            "--set",
            "data.synthetic.valImagesPerIdentity=4",
            "--set",
            "data.synthetic.renderSize=48",
            "--set",
            "train.batchSize=16",
            "--set",
            "train.epochs=1",
            "--set",
            $"distill.cacheDir={Path.Combine(runs, "cache")}",
        ];
        var (code, output, err) = Run(args);
        Assert.True(code == 0, err);
        var dir = Path.Combine(runs, "occlusion-synthetic");
        foreach (var f in new[] { "results.md", "results.csv", "results.png", "report.html" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        ReportTests.AssertSelfContainedPage(Path.Combine(dir, "report.html"), minImages: 2);
        Assert.Contains("McNemar test", File.ReadAllText(Path.Combine(dir, "report.html")));
        Assert.Contains("<th>p</th>", File.ReadAllText(Path.Combine(dir, "report.html")));
        var md = File.ReadAllText(Path.Combine(dir, "results.md"));
        foreach (
            var row in new[]
            {
                "teacher (reference)",
                "**finetune** (baseline)",
                "| kd |",
                "| triplet |",
                "kd+triplet (combined)",
                "kd+triplet+finetune (combined)",
            }
        )
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

    /// <summary>A classification report with these per-item outcomes (its balanced accuracy set to its
    /// accuracy).</summary>
    internal static Evaluation.EvalReport Rep(bool[] correct)
    {
        double acc = correct.Average(c => c ? 1.0 : 0);
        return new(
            "classification",
            new Dictionary<string, double> { ["acc"] = acc, ["balanced_acc"] = acc },
            new Evaluation.ClassificationResult(acc, new int[2, 2], correct)
        );
    }

    /// <summary>A classification report on 100 items of which the first <paramref name="right"/> are right.</summary>
    private static Evaluation.EvalReport Rep(int right) => Rep(Right(right));

    private static bool[] Right(int n) => [.. Enumerable.Range(0, 100).Select(i => i < n)];

    [Fact]
    public void ARunCanNameItsOwnBaselineForItsPValues()
    {
        // two students in one table: "b+kd" is compared with "b" alone, everything else with the experiment's baseline
        // "a"
        var dir = TestUtil.TempDir();
        var plan = ExperimentPlan.Load(
            Plan(
                dir,
                $"{{ \"name\": \"x\", {Base}, \"baseline\": \"a\", \"runs\": [ {{ \"name\": \"t\", \"reference\": "
                    + $"true }}, "
                    + "{ \"name\": \"a\" }, { \"name\": \"b\" }, { \"name\": \"b+kd\", \"baseline\": \"b\" } ] }"
            )
        );
        Assert.Equal("b", plan.BaselineOf("b+kd"));
        Assert.Equal("a", plan.BaselineOf("b"));
        Assert.Equal("a", plan.BaselineOf("t"));
        // a: 50 of 100 right; b and b+kd: 90 right, the same items — so b+kd differs from a (p tiny) but not from b (p
        // = 1)
        Experiments.MethodResult M(string name, string kind, int right) =>
            new(name, kind, new() { ["clean"] = [Rep(right)] }, [1.0]);
        var result = new Experiments.ExperimentResult(
            plan,
            "expression",
            ["clean"],
            [M("t", "reference", 95), M("a", "run", 50), M("b", "run", 90), M("b+kd", "run", 90)],
            dir
        );
        var md = Experiments.ExperimentTable.Markdown(result);
        Assert.Matches(@"\| b \| 90\.00 \| [0-9.e+-]+ \|", md);
        Assert.DoesNotContain("| b | 90.00 | 1.000 |", md);
        Assert.Contains("| b+kd (vs b) | 90.00 | 1.000 |", md);
        Assert.Contains("rows marked \"vs X\": against X", md);
        var csv = Experiments.ExperimentTable.Csv(result).Split('\n');
        Assert.EndsWith(",p_vs_baseline,baseline,train_seconds", csv[0]);
        Assert.Contains(csv, l => l.StartsWith("b+kd,run,clean,1,") && l.EndsWith(",1,b,1.0"));
        Assert.Contains(csv, l => l.StartsWith("b,run,clean,1,") && l.Contains(",a,1.0"));

        string Err(string runs) =>
            Assert
                .Throws<FaceDistillException>(() =>
                    ExperimentPlan.Load(
                        Plan(dir, $"{{ \"name\": \"x\", {Base}, \"baseline\": \"a\", \"runs\": [ {runs} ] }}")
                    )
                )
                .Message;
        Assert.Contains(
            "runs.b.baseline: 'zz' is not one of the runs",
            Err("{ \"name\": \"a\" }, { \"name\": \"b\", \"baseline\": \"zz\" }")
        );
        Assert.Contains(
            "cannot be its own baseline",
            Err("{ \"name\": \"a\" }, { \"name\": \"b\", \"baseline\": \"b\" }")
        );
        Assert.Contains(
            "a reference run has no p-value",
            Err("{ \"name\": \"a\" }, { \"name\": \"t\", \"reference\": true, \"baseline\": \"a\" }")
        );
    }

    [Fact]
    public void OnlyAcceptsACombinationAndKeepsTheRunsItCombines()
    {
        var dir = TestUtil.TempDir();
        var plan = ExperimentPlan.Load(
            Plan(
                dir,
                $"{{ \"name\": \"x\", {Base}, \"baseline\": \"a\", \"runs\": [ {{ \"name\": \"a\" }}, "
                    + "{ \"name\": \"b\" }, { \"name\": \"c\" }, { \"name\": \"d\" } ], "
                    + "\"combine\": [ { \"name\": \"b+c\", \"of\": [\"b\", \"c\"] } ] }"
            )
        );
        var only = plan.Only(["b+c"]);
        Assert.Equal(["a", "b", "c"], only.Runs.Select(r => r.Name));
        Assert.Equal(["b+c"], only.Combine.Select(c => c.Name));
        var e = Assert.Throws<FaceDistillException>(() => plan.Only(["nope"]));
        Assert.Contains("is not a run of the plan (a, b, c, d, b+c)", e.Message);
    }

    [Fact]
    public void ARunCanBeTestedAgainstATeacherRow()
    {
        // "does the student beat its teacher?": a row names the teacher's reference row as its baseline; the teacher is
        // evaluated once, so each of the student's seeds is paired with that one evaluation
        var dir = TestUtil.TempDir();
        var plan = ExperimentPlan.Load(
            Plan(
                dir,
                $"{{ \"name\": \"x\", {Base}, \"baseline\": \"a\", \"seeds\": [1, 2], \"runs\": [ "
                    + "{ \"name\": \"t\", \"teacher\": \"zoo:expression\" }, { \"name\": \"a\" }, "
                    + "{ \"name\": \"a+kd\", \"baseline\": \"t\" } ] }"
            )
        );
        Assert.Equal("t", plan.BaselineOf("a+kd"));
        // --only keeps the rows a kept row is tested against
        Assert.Equal(["t", "a", "a+kd"], plan.Only(["a+kd"]).Runs.Select(r => r.Name));
        // the teacher: items 0-59 right; the student, in both seeds: items 0-59 and 60-79 right (20 discordant
        // pairs per seed, all for the student)
        var result = new Experiments.ExperimentResult(
            plan,
            "expression",
            ["clean"],
            [
                new("t", "reference", new() { ["clean"] = [Rep(60)] }, [double.NaN]),
                new("a", "run", new() { ["clean"] = [Rep(50), Rep(50)] }, [1.0, 1.0]),
                new("a+kd", "run", new() { ["clean"] = [Rep(80), Rep(80)] }, [1.0, 1.0]),
            ],
            dir
        );
        var p = Experiments.ExperimentTable.PValue(
            result.Methods[0].Reports["clean"],
            result.Methods[2].Reports["clean"]
        );
        // the teacher's outcomes are not counted once per seed: two seeds that agree item by item are no more
        // evidence than one (20 discordant items, all for the student: exact p = 2 · 2^−20)
        Assert.NotNull(p);
        Assert.Equal(2 * Math.Pow(2, -20), p!.PValue, 12);
        Assert.Equal(Experiments.ExperimentTable.PValue([Rep(60)], [Rep(80)])!.PValue, p.PValue, 12);
        var pooled = Evaluation.Significance.McNemar([.. Right(60), .. Right(60)], [.. Right(80), .. Right(80)]);
        Assert.True(pooled.PValue < p.PValue);
        // seeds that disagree weaken it: one seed right on items 0-79, the other on 0-54 only (items 55-59 the
        // teacher's): per item +0.5 twenty times, −0.5 five times, z = 7.5 / √6.25 = 3
        var mixed = Experiments.ExperimentTable.PValue([Rep(60)], [Rep(80), Rep(55)])!;
        Assert.Equal(Evaluation.Significance.ChiSquare1Survival(9), mixed.PValue, 9);
        Assert.Contains("| a+kd (vs t) | 80.00 ± 0.00 |", Experiments.ExperimentTable.Markdown(result));
    }

    /// <summary>The table without the training-time column (reused runs report the time they took when they
    /// ran).</summary>
    private static string Strip(string md) =>
        string.Join(
            '\n',
            md.Split('\n').Select(l => l.StartsWith('|') ? l[..l.TrimEnd().TrimEnd('|').LastIndexOf('|')] : l)
        );
}

public class RecognitionExperimentTests
{
    /// <summary>Runs a shipped synthetic recognition experiment shrunk to seconds (6 identities, 32 px, one seed);
    /// returns the runs folder.</summary>
    private static string TinySyntheticExperiment(string config, int epochs, bool withCache)
    {
        var runs = TestUtil.TempDir();
        var args = new List<string>
        {
            "experiment",
            Path.Combine(RepoPaths.Root(), "configs", "recognition", config),
            "--runs",
            runs,
            "--quiet",
            "--threads",
            "2",
            "--seeds",
            "1",
        };
        foreach (
            var set in new[]
            {
                "data.imageSize=32",
                "data.synthetic.identities=6",
                "data.synthetic.imagesPerIdentity=4",
                "data.synthetic.valIdentities=4",
                "data.synthetic.valImagesPerIdentity=3",
                "data.synthetic.renderSize=48",
                "train.batchSize=12",
                $"train.epochs={epochs}",
                "eval.pairsPerFold=3",
            }.Concat(withCache ? [$"distill.cacheDir={Path.Combine(runs, "cache")}"] : [])
        )
            args.AddRange(["--set", set]);
        var (code, _, err) = CliHarness.Run([.. args]);
        Assert.True(code == 0, err);
        return runs;
    }

    [Fact]
    public void TheSyntheticRecognitionKdExperimentRunsEndToEnd()
    {
        var runs = TinySyntheticExperiment("synthetic-methods.json", epochs: 1, withCache: true);
        var md = File.ReadAllText(Path.Combine(runs, "recognition-kd-synthetic", "results.md"));
        foreach (
            var row in new[]
            {
                "teacher (reference)",
                "**student** (baseline)",
                "| kd |",
                "| feature |",
                "| gkd |",
                "| ddl |",
                "| multiface |",
            }
        )
            Assert.Contains(row, md);
        foreach (var view in new[] { "acc (clean)", "acc (lowres:16)", "acc (occluded:mask)" })
            Assert.Contains(view, md);
        Assert.Contains("tar@far=0.01", md);
        // DDL's before/after: the pair-similarity distributions of the student alone and of the DDL student, per view
        foreach (var m in new[] { "student", "ddl" })
            Assert.True(File.Exists(Path.Combine(runs, "recognition-kd-synthetic", $"similarity-{m}.png")), m);
    }

    [Fact]
    public void ConvergenceIsTheFirstStepThatReachesTheReferenceFinalValue()
    {
        var dir = TestUtil.TempDir();
        var csv = Path.Combine(dir, "metrics.csv");
        File.WriteAllLines(
            csv,
            [
                "step,epoch,loss,lr,images_per_s,val_acc",
                "10,1,3.0,0.1,100,",
                "20,1,2.5,0.1,100,0.70",
                "40,2,2.0,0.1,100,0.80",
                "60,3,1.5,0.1,100,0.79",
                "80,4,1.2,0.1,100,0.85",
            ]
        );
        var curve = Experiments.Convergence.Curve(csv, "val_acc");
        Assert.Equal([(20L, 0.70), (40L, 0.80), (60L, 0.79), (80L, 0.85)], curve);
        Assert.Equal(40L, Experiments.Convergence.StepsToReach(curve, 0.80));
        Assert.Null(Experiments.Convergence.StepsToReach(curve, 0.9));
        Assert.Equal(20L, Experiments.Convergence.StepsToReach(curve, 0.75, higherIsBetter: false));
        Assert.Contains(
            "no 'val_mae' column",
            Assert.Throws<FaceDistillException>(() => Experiments.Convergence.Curve(csv, "val_mae")).Message
        );
        Assert.Contains(
            "'zz' is not one of the trained runs",
            Assert
                .Throws<FaceDistillException>(() =>
                    ExperimentPlan.Load(
                        Plan(
                            dir,
                            $"{{ \"name\": \"x\", {Base}, \"baseline\": \"ft\", \"runs\": [ {{ \"name\": \"ft\" }} ], "
                                + $"\"convergence\": {{ \"zz\": \"ft\" }} }}"
                        )
                    )
                )
                .Message
        );
    }

    [Fact]
    public void TheMultiFaceConvergenceExperimentReportsStepsToTheSingleHeadAccuracy()
    {
        var runs = TinySyntheticExperiment("synthetic-multiface.json", epochs: 2, withCache: false);
        var md = File.ReadAllText(Path.Combine(runs, "multiface-convergence-synthetic", "results.md"));
        Assert.Contains("### Convergence", md);
        foreach (
            var row in new[]
            {
                "| multiface-softmax | softmax | 1 |",
                "| multiface-cosface | cosface | 1 |",
                "| multiface-arcface | arcface | 1 |",
            }
        )
            Assert.Contains(row, md);
        Assert.Contains("![convergence](convergence.png)", md);
        Assert.Equal(
            640,
            FaceDistill
                .Data.ImageCodec.Load(Path.Combine(runs, "multiface-convergence-synthetic", "convergence.png"))
                .Width
        );
    }

    [Fact]
    public void SimilarityHistogramsAreDensitiesOverMinusOneToOne()
    {
        var (x, d) = Experiments.SimilarityPlot.Histogram([-1.0, -0.99, 0.0, 0.5, 1.0, 2.0]);
        Assert.Equal(Experiments.SimilarityPlot.Bins, x.Length);
        Assert.Equal(1.0, d.Sum() * 2.0 / Experiments.SimilarityPlot.Bins, 9);
        Assert.Equal(2.0 / 6 / (2.0 / Experiments.SimilarityPlot.Bins), d[0], 9); // −1 and −0.99 share the first bin
        Assert.Equal(2.0 / 6 / (2.0 / Experiments.SimilarityPlot.Bins), d[^1], 9); // 1 and the clamped 2
        Assert.Equal(-1 + 1.0 / Experiments.SimilarityPlot.Bins, x[0], 9);
    }

    private static (int Code, string Out, string Err) Run(params string[] args) => CliHarness.Run(args);

    private static string Plan(string dir, string body) => ExperimentTests.Plan(dir, body);

    private const string Base = ExperimentTests.Base;

    [Fact]
    public void PrepareStepsAndTeacherRowsAreChecked()
    {
        var dir = TestUtil.TempDir();
        string Err(string extra) =>
            Assert
                .Throws<FaceDistillException>(() =>
                    ExperimentPlan.Load(
                        Plan(
                            dir,
                            $"{{ \"name\": \"x\", {Base}, \"baseline\": \"ft\", \"runs\": [ {{ \"name\": \"ft\" }} "
                                + $"]{extra} }}"
                        )
                    )
                )
                .Message;
        Assert.Contains(
            "folder to align not found",
            Err(", \"prepare\": [ { \"align\": \"/no/such/folder\", \"out\": \"o\" } ]")
        );
        Assert.Contains(
            "unknown key 'detctor'",
            Err($", \"prepare\": [ {{ \"align\": \"{dir}\", \"out\": \"o\", \"detctor\": \"ssd\" }} ]")
        );
        Assert.Contains(
            "pad must be in [0, 2]",
            Err($", \"prepare\": [ {{ \"align\": \"{dir}\", \"out\": \"o\", \"pad\": 3 }} ]")
        );
        Assert.Contains(
            "detector 'yolo'",
            Err($", \"prepare\": [ {{ \"align\": \"{dir}\", \"out\": \"o\", \"detector\": \"yolo\" }} ]")
        );
        // a data path that a prepare step creates is accepted before it exists; any other missing one is not
        var outDir = Path.Combine(dir, "aligned");
        string recog =
            $"\"base\": {{ \"task\": \"recognition\", \"data\": {{ \"source\": \"folder\", \"path\": \"{outDir}\" }} "
            + $"}}";
        var plan = ExperimentPlan.Load(
            Plan(
                dir,
                $"{{ \"name\": \"x\", {recog}, \"baseline\": \"ft\", \"runs\": [ {{ \"name\": \"ft\" }} ], "
                    + $"\"prepare\": [ {{ \"align\": \"{dir}\", \"out\": \"{outDir}\" }} ] }}"
            )
        );
        Assert.Single(plan.Prepare);
        Assert.Contains(
            "not found",
            Assert
                .Throws<FaceDistillException>(() =>
                    ExperimentPlan.Load(
                        Plan(
                            dir,
                            $"{{ \"name\": \"x\", {recog}, \"baseline\": \"ft\", \"runs\": [ {{ \"name\": \"ft\" }} ] "
                                + $"}}"
                        )
                    )
                )
                .Message
        );
        // teacher rows: a zoo or ONNX teacher evaluated as it is, nothing to set but the crop size it is measured at
        Assert.Contains(
            "runs.t.set.train.epochs: a teacher row evaluates 'zoo:recognition' as it is; its 'set' takes only "
                + "data.imageSize",
            Assert
                .Throws<FaceDistillException>(() =>
                    ExperimentPlan.Load(
                        Plan(
                            dir,
                            $"{{ \"name\": \"x\", {Base}, \"baseline\": \"ft\", \"runs\": [ {{ \"name\": \"t\", "
                                + $"\"teacher\": \"zoo:recognition\", \"set\": {{ \"train.epochs\": 1 }} }}, {{ "
                                + $"\"name\": \"ft\" }} ] }}"
                        )
                    )
                )
                .Message
        );
        Assert.Contains(
            "must be zoo:<net> or onnx:<model>",
            Assert
                .Throws<FaceDistillException>(() =>
                    ExperimentPlan.Load(
                        Plan(
                            dir,
                            $"{{ \"name\": \"x\", {Base}, \"baseline\": \"ft\", \"runs\": [ {{ \"name\": \"t\", "
                                + $"\"teacher\": \"runs/t\" }}, {{ \"name\": \"ft\" }} ] }}"
                        )
                    )
                )
                .Message
        );
    }

    [Fact]
    public void ATableOfTeachersAloneTakesATeacherRowAsItsBaseline()
    {
        var dir = TestUtil.TempDir();
        string runs =
            "\"runs\": [ { \"name\": \"a\", \"teacher\": \"zoo:recognition\" }, "
            + "{ \"name\": \"b\", \"teacher\": \"zoo:faceres\" } ]";
        var plan = ExperimentPlan.Load(Plan(dir, $"{{ \"name\": \"x\", {Base}, \"baseline\": \"a\", {runs} }}"));
        Assert.Equal("a", plan.Baseline);
        Assert.All(plan.Runs, r => Assert.True(r.Reference));
        // with one trained run the baseline must be a trained run
        string mixed = "\"runs\": [ { \"name\": \"a\", \"teacher\": \"zoo:recognition\" }, { \"name\": \"ft\" } ]";
        Assert.Contains(
            "baseline 'a' is not one of the (non-reference) runs",
            Assert
                .Throws<FaceDistillException>(() =>
                    ExperimentPlan.Load(Plan(dir, $"{{ \"name\": \"x\", {Base}, \"baseline\": \"a\", {mixed} }}"))
                )
                .Message
        );
        // the table tests every other teacher against the baseline teacher, pair by pair
        var a = Enumerable.Range(0, 60).Select(i => i % 3 != 0).ToArray();
        var b = Enumerable.Range(0, 60).Select(i => i % 10 != 0).ToArray();
        var result = new ExperimentResult(
            plan,
            "expression",
            ["clean"],
            [
                new MethodResult("a", "reference", new() { ["clean"] = [ExperimentTests.Rep(a)] }, []),
                new MethodResult("b", "reference", new() { ["clean"] = [ExperimentTests.Rep(b)] }, []),
            ],
            dir
        );
        var csv = ExperimentTable.Csv(result).Split('\n');
        Assert.Contains(csv, l => l.StartsWith("b,reference,clean") && l.Contains(",a,"));
    }

    [Fact]
    public void ARealDataStyleRecognitionPlanAlignsItsDataAndEvaluatesMaskedLfwStylePairs()
    {
        // the shape of configs/recognition/celeba299-lfw.json on a few synthetic faces: a folder of identity-labelled
        // photos with a landmarks CSV and an LFW-style pair list, both aligned by 'prepare' steps, masked one-sided
        // pairs
        var root = TestUtil.TempDir();
        var faces = Path.Combine(root, "faces");
        Assert.Equal(
            0,
            Run("synth", faces, "--identities", "6", "--images", "5", "--size", "64", "--seed", "3", "--quiet").Code
        );
        // LFW layout: Name/Name_000k.png, pairs.txt with 2 folds of 2 same + 2 different pairs, landmarks alongside
        var (lfw, pairs, _) = LfwStyle.Write(root);
        var al = Path.Combine(root, "aligned");
        var plan = Plan(
            root,
            $$"""
            { "name": "real-style", "baseline": "student", "views": ["clean", "occluded:mask", "occluded:mask@both"],
              "prepare": [ { "align": "{{faces}}", "out": "{{al}}/faces", "landmarks": "{{faces}}/landmarks.csv",
                             "size": 64 },
                           { "align": "{{lfw}}", "out": "{{al}}/lfw", "landmarks": "{{lfw}}/landmarks.csv",
                             "size": 64 } ],
              "base": { "task": "recognition",
                        "data": { "source": "folder", "path": "{{al}}/faces", "landmarks": "{{al}}/faces/landmarks.csv",
                            "imageSize": 32 },
                        "model": { "backbone": "iresnet18", "width": 0.125, "embeddingSize": 32,
                             "head": { "type": "arcface", "s": 16, "m2": 0.2 } },
                        "train": { "epochs": 1, "batchSize": 10, "threads": 2 },
                        "eval": { "pairs": "{{pairs}}", "images": "{{al}}/lfw", "landmarks": "{{al}}/lfw/landmarks.csv",
                            "pairSides": "one" } },
              "runs": [ { "name": "student" }, { "name": "masked", "set": { "data.view": "occluded:mask" } } ],
              "combine": [ { "name": "twice", "of": ["masked", "masked"] },
                           { "name": "twice-vs", "of": ["masked", "masked"], "baseline": "masked" } ] }
            """
        );
        var runs = Path.Combine(root, "runs");
        var (code, _, err) = Run("experiment", plan, "--runs", runs, "--quiet", "--threads", "2");
        Assert.True(code == 0, err);
        Assert.Equal(30, Directory.GetFiles(Path.Combine(al, "faces"), "*.png", SearchOption.AllDirectories).Length);
        Assert.True(File.Exists(Path.Combine(al, "lfw", "P0", "P0_0001.png")));
        Assert.False(Directory.Exists(Path.Combine(al, "lfw.partial")));
        var md = File.ReadAllText(Path.Combine(runs, "real-style", "results.md"));
        Assert.Contains("acc (occluded:mask)", md);
        Assert.Contains("| masked |", md);
        // a combination follows the runs' protocol (one side degraded): of a run with itself, it is that run's row
        string[] Cells(string row) => md.Split('\n').First(l => l.StartsWith($"| {row} |")).Split('|');
        Assert.Equal(Cells("masked")[2..11], Cells("twice (combined)")[2..11]);
        // with its own baseline a combination is tested against that run: against itself, p = 1 on every view
        var vs = Cells("twice-vs (combined) (vs masked)");
        Assert.Equal(Cells("masked")[2..11].Where((_, k) => k % 3 != 1), vs[2..11].Where((_, k) => k % 3 != 1));
        Assert.Equal("1.000", vs[3].Trim());
        Assert.Equal("1.000", vs[6].Trim());
        Assert.Equal("1.000", vs[9].Trim());
        // a column with its own sides (occluded:mask@both: both faces of every pair masked) is the run evaluated with
        // eval.pairSides both, though the runs' protocol is one-sided
        using (
            var trained = TrainedRun.Load(
                Path.Combine(runs, "real-style", "masked-s1"),
                ["eval.view=occluded:mask", "eval.pairSides=both"]
            )
        )
        {
            var both = Protocols.For(trained.Config, trained.Task, trained.Data).Evaluate!(trained.Model);
            var csvRow = File.ReadAllLines(Path.Combine(runs, "real-style", "results.csv"))
                .First(l => l.StartsWith("masked,run,occluded:mask@both,", StringComparison.Ordinal))
                .Split(',');
            Assert.Equal(both.Metrics["acc"], double.Parse(csvRow[4], CultureInfo.InvariantCulture), 5);
        }
        // a second run reuses the prepared folders and the trained runs
        (code, _, err) = Run("experiment", plan, "--runs", runs, "--quiet", "--threads", "2");
        Assert.True(code == 0, err);
        Assert.DoesNotContain("prepare: aligning", err);
    }
}
