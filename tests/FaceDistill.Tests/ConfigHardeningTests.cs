using FaceDistill.Core;

namespace FaceDistill.Tests;

/// <summary>Bad configs that used to pass or crash: each a one-line error naming the file and the key.</summary>
public class ConfigHardeningTests
{
    private static string Write(string name, string text)
    {
        var p = Path.Combine(TestUtil.TempDir(), name);
        File.WriteAllText(p, text);
        return p;
    }

    private static string Error(string name, string text, params string[] overrides)
    {
        var p = Write(name, text);
        var e = Assert.Throws<FaceDistillException>(() => RunConfig.Load(p, overrides).Settings);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains(p, e.Message);
        return e.Message;
    }

    [Theory]
    [InlineData("train:\n  optimizer:\n    lr: NaN\n", "train.optimizer.lr")]
    [InlineData("train:\n  clipGradNorm: Infinity\n", "train.clipGradNorm")]
    [InlineData("model:\n  head:\n    m2: 1e400\n", "model.head.m2")]
    public void NonFiniteYamlNumbersNameTheKey(string yaml, string key)
    {
        var m = Error("c.yaml", yaml);
        Assert.Contains($"key '{key}'", m);
        Assert.Contains("finite", m);
    }

    [Fact]
    public void DuplicateComplexAndCaseOnlyKeysAndEmptyFilesAreErrors()
    {
        Assert.Contains("appears twice", Error("d.json", "{ \"name\": \"a\", \"name\": \"b\" }"));
        Assert.Contains("Duplicate key epochs", Error("d.yaml", "train:\n  epochs: 1\n  epochs: 2\n"));
        Assert.Contains("keys must be plain names", Error("k.yaml", "? [a, b]\n: 1\n"));
        Assert.Contains("differ only in case", Error("c.json", "{ \"train\": { \"epochs\": 1, \"Epochs\": 2 } }"));
        Assert.Contains("the config is empty", Error("e.yaml", ""));
        Assert.Contains("must be finite", Error("n.json", "{ \"train\": { \"optimizer\": { \"lr\": 1e400 } } }"));
    }

    [Theory]
    [InlineData("train.threads=5000", "train.threads")]
    [InlineData("data.synthetic.identities=2000000000", "data.synthetic.identities")]
    [InlineData("eval.pairsPerFold=1000000", "eval.pairsPerFold")]
    [InlineData("model.head.m2=100", "model.head.m2")]
    [InlineData("model.width=1e-6", "model.width")]
    [InlineData("train.schedule.warmupEpochs=1e9", "train.schedule.warmupEpochs")]
    [InlineData("train.optimizer.lr=1e308", "train.optimizer.lr")]
    [InlineData("model.embeddingSize=200000000", "model.embeddingSize")]
    public void ValuesOutOfTheirRangeAreRejectedBeforeAnyWork(string assignment, string key)
    {
        var e = Assert.Throws<FaceDistillException>(() => RunConfig.Load(null, [assignment]).Settings);
        Assert.Contains($"key '{key}'", e.Message);
    }

    [Fact]
    public void ABatchLargerThanTheTrainingSetIsAnError()
    {
        var cfg = TestUtil.Tiny("huge-batch", 1) with { Train = TestUtil.Tiny("x").Train with { BatchSize = 5000 } };
        var e = Assert.Throws<FaceDistillException>(() =>
            TrainingRun.Execute(cfg, TestUtil.TempDir(), ExistingRun.Refuse)
        );
        Assert.Contains("train.batchSize", e.Message);
    }
}

public class CsvTests
{
    [Fact]
    public void FieldsWithCommasQuotesAndLineBreaksSurviveTheRoundTrip()
    {
        string[] row = ["a,b.png", "say \"hi\"", "two\nlines", "plain"];
        var text = "h1,h2,h3,h4\n" + FaceDistill.Core.Csv.Row(row) + "\n\nx,y,z,w\n";
        var records = FaceDistill.Core.Csv.Records(text, "t.csv").ToList();
        Assert.Equal(3, records.Count);
        Assert.Equal(row, records[1].Fields);
        Assert.Equal(2, records[1].Line);
        Assert.Equal(5, records[2].Line); // the quoted field spans lines 2–3, line 4 is blank
        Assert.Equal("plain", FaceDistill.Core.Csv.Field("plain"));
        Assert.Contains(
            "not closed",
            Assert
                .Throws<FaceDistill.Core.FaceDistillException>(() =>
                    FaceDistill.Core.Csv.Records("a,\"b\n", "t.csv").ToList()
                )
                .Message
        );
    }

    [Fact]
    public void ALandmarkCsvWithACommaInAnImageNameReadsBack()
    {
        var dir = TestUtil.TempDir();
        var pts = new FaceLandmarks(Enumerable.Range(0, 68).Select(i => new Point2(i, 2 * i)).ToArray());
        var csv = Path.Combine(dir, "landmarks.csv");
        File.WriteAllText(csv, LandmarkCsv.Header + "\n" + LandmarkCsv.Row("Smith, John/001.png", pts) + "\n");
        var read = LandmarkCsv.Read(csv);
        Assert.Equal(67, read["Smith, John/001.png"].Points[67].X);
    }
}

/// <summary>The key-by-key reference is collected from the checks, covers every numeric key, and docs/config-keys.md
/// holds it as it is today.</summary>
public class ConfigKeysTests
{
    [Fact]
    public void EveryNumericKeyOfEveryMethodHasADocumentedRule()
    {
        var documented = ConfigKeys.All().Select(k => k.Name).ToHashSet();
        var missing = new SortedSet<string>();
        void Leaves(System.Text.Json.Nodes.JsonNode? node, string prefix)
        {
            if (node is System.Text.Json.Nodes.JsonObject o)
                foreach (var (k, v) in o)
                    Leaves(v, prefix.Length == 0 ? k : $"{prefix}.{k}");
            else if (
                node is System.Text.Json.Nodes.JsonValue v
                && v.GetValueKind() == System.Text.Json.JsonValueKind.Number
                && !documented.Contains(prefix)
            )
                missing.Add(prefix);
        }
        foreach (var method in FaceDistill.Distillation.DistillationMethods.Names)
        {
            var c = new FaceDistill.Config.RunSettings
            {
                Distill = new()
                {
                    Method = method,
                    Teacher =
                        FaceDistill.Distillation.DistillationMethods.Find(method)?.NeedsTeacher == true
                            ? "zoo:recognition"
                            : null,
                },
            };
            var resolved = RunConfig.Resolve(c, "(test)", _ => true).Settings;
            Leaves(System.Text.Json.Nodes.JsonNode.Parse(FaceDistill.Config.ConfigLoader.ToJson(resolved)), "");
        }
        Assert.True(missing.Count == 0, "numeric keys without a rule: " + string.Join(", ", missing));
    }

    [Fact]
    public void TheDocumentedReferenceIsTheCurrentOne()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "FaceDistill.sln")))
            dir = dir.Parent;
        var doc = File.ReadAllText(Path.Combine(dir.FullName, "docs", "config-keys.md"));
        Assert.True(
            doc.Contains(ConfigKeys.Markdown()),
            "docs/config-keys.md is out of date: regenerate its table with `facedistill config keys`"
        );
    }
}

/// <summary>docs/config-keys.md's hand-written table of the derive steps (mine.*, condense.*) against the code: each
/// default is the record's, each range's ends pass and the values just outside fail, each list is the code's.</summary>
public class DeriveKeysDocTests
{
    [Fact]
    public void TheDeriveStepTableIsTheCode()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "FaceDistill.sln")))
            dir = dir.Parent;
        var rows = File.ReadAllLines(Path.Combine(dir.FullName, "docs", "config-keys.md"))
            .Select(l =>
                System.Text.RegularExpressions.Regex.Match(l, @"^\| `(mine|condense)\.(\w+)` \| (.+?) \| (.+?) \|$")
            )
            .Where(m => m.Success)
            .ToList();
        Assert.Equal(7 + 15, rows.Count);
        var json = new System.Text.Json.JsonSerializerOptions
        {
            PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase,
        };
        // every option of both steps is in the table (the seed is the plan's, not a key)
        foreach (
            var (section, t) in new[]
            {
                ("mine", typeof(FaceDistill.Omni.MiningOptions)),
                ("condense", typeof(FaceDistill.Omni.CondenseOptions)),
            }
        )
        {
            var options = t.GetConstructors()[0].GetParameters().Select(p => char.ToLower(p.Name![0]) + p.Name[1..]);
            var documented = rows.Where(m => m.Groups[1].Value == section).Select(m => m.Groups[2].Value);
            Assert.Equal(options.Where(k => k != "seed").Order(), documented.Order());
        }
        foreach (var m in rows)
        {
            var (section, key, def, rule) = (
                m.Groups[1].Value,
                m.Groups[2].Value,
                m.Groups[3].Value,
                m.Groups[4].Value
            );
            var type =
                section == "mine" ? typeof(FaceDistill.Omni.MiningOptions) : typeof(FaceDistill.Omni.CondenseOptions);
            var defaults = System
                .Text.Json.Nodes.JsonNode.Parse(
                    System.Text.Json.JsonSerializer.Serialize(
                        section == "mine"
                            ? new FaceDistill.Omni.MiningOptions()
                            : new FaceDistill.Omni.CondenseOptions(),
                        type,
                        json
                    )
                )!
                .AsObject();
            Assert.True(defaults.ContainsKey(key), $"{section}.{key}: no such option");
            var actual = defaults[key]!.ToJsonString();
            var documented = def.Split(' ')[0];
            Assert.True(
                actual == documented || double.TryParse(documented, out var d) && double.Parse(actual) == d,
                $"{section}.{key}: documented default {def}, the code's {actual}"
            );
            // "one of a, b, c (c: key value)": value c is valid where key has that value
            var only = System.Text.RegularExpressions.Regex.Match(rule, @"^(.+?) \((\w+): (\w+) (\w+)\)$");
            if (only.Success)
                rule = only.Groups[1].Value;
            void Check(System.Text.Json.Nodes.JsonNode value, bool ok)
            {
                var o = defaults.DeepClone().AsObject();
                o[key] = value;
                if (only.Success && value.ToString() == only.Groups[2].Value)
                    o[only.Groups[3].Value] = only.Groups[4].Value;
                var options = System.Text.Json.JsonSerializer.Deserialize(o, type, json)!;
                var check = () => type.GetMethod("Check")!.Invoke(options, null);
                if (ok)
                    check();
                else
                    Assert.IsType<FaceDistillException>(
                        Assert.Throws<System.Reflection.TargetInvocationException>(check).InnerException
                    );
            }
            if (rule.StartsWith("one of "))
            {
                foreach (var v in rule[7..].Split(", "))
                    Check(v, ok: true);
                Check("no-such-value", ok: false);
                continue;
            }
            var ends = rule.Trim('[', ']').Split(", ").Select(double.Parse).ToArray();
            bool integer =
                defaults[key]!.GetValueKind() == System.Text.Json.JsonValueKind.Number
                && !actual.Contains('.')
                && type.GetProperty(char.ToUpper(key[0]) + key[1..])!.PropertyType == typeof(int);
            System.Text.Json.Nodes.JsonNode N(double v) => integer ? (long)v : v;
            Check(N(ends[0]), ok: true);
            Check(N(ends[1]), ok: true);
            Check(N(integer ? ends[0] - 1 : ends[0] - Math.Max(1e-9, Math.Abs(ends[0]) * 1e-3)), ok: false);
            Check(N(integer ? ends[1] + 1 : ends[1] * 1.001 + 1e-9), ok: false);
        }
    }
}
