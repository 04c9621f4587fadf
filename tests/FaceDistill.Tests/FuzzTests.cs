using CsCheck;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Data.Synthetic;
using FaceDistill.Experiments;
using FaceDistill.Runs;

namespace FaceDistill.Tests;

/// <summary>
/// The front door, fuzzed (CsCheck): mutated images, configs, plans and CSV files give a result or a one-line
/// <see cref="FaceDistillException"/>, never another exception, a hang or a stack trace. Each property runs a fixed
/// number of generated cases (a few seconds in all); CsCheck prints the seed of any failing case to replay it.
/// </summary>
public class FuzzTests
{
    /// <summary>Cases per property: the CI count × <c>FACEDISTILL_FUZZ_SCALE</c> (default 1; <c>bench/fuzz.sh</c> runs
    /// the long version).</summary>
    private static int N(int ciCases) =>
        ciCases
        * (int.TryParse(Environment.GetEnvironmentVariable("FACEDISTILL_FUZZ_SCALE"), out var k) && k > 0 ? k : 1);

    private static readonly byte[] Png;
    private static readonly byte[] Jpeg;

    static FuzzTests()
    {
        var dir = TestUtil.TempDir();
        var face = new SyntheticFaces(
            new SyntheticOptions
            {
                Identities = 1,
                ImagesPerIdentity = 1,
                Size = 24,
            }
        ).Image(0);
        ImageCodec.Save(face, Path.Combine(dir, "f.png"));
        ImageCodec.Save(face, Path.Combine(dir, "f.jpg"));
        Png = File.ReadAllBytes(Path.Combine(dir, "f.png"));
        Jpeg = File.ReadAllBytes(Path.Combine(dir, "f.jpg"));
    }

    /// <summary>Mutations of <paramref name="seed"/>: up to 8 bytes replaced, then cut to a random length (or
    /// not).</summary>
    private static Gen<byte[]> Mutated(byte[] seed) =>
        Gen.Select(
            Gen.Select(Gen.Int[0, seed.Length - 1], Gen.Byte).Array[0, 8],
            Gen.Int[0, seed.Length],
            Gen.Bool,
            (edits, cut, truncate) =>
            {
                var b = (byte[])seed.Clone();
                foreach (var (at, v) in edits)
                    b[at] = v;
                return truncate ? b[..cut] : b;
            }
        );

    private static void OnlyOneLineErrors(Action action)
    {
        try
        {
            action();
        }
        catch (FaceDistillException e)
        {
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    [Fact]
    public void MutatedImagesDecodeOrFailWithOneLine()
    {
        Mutated(Png).Sample(b => OnlyOneLineErrors(() => ImageCodec.Decode(b, "fuzz.png")), iter: N(400));
        Mutated(Jpeg).Sample(b => OnlyOneLineErrors(() => ImageCodec.Decode(b, "fuzz.jpg")), iter: N(400));
        Gen.Byte.Array[0, 64].Sample(b => OnlyOneLineErrors(() => ImageCodec.Decode(b, "fuzz.bin")), iter: N(200));
        // PGM headers: random tokens after the magic number
        Gen.Select(Gen.Int[-5, 70_000], Gen.Int[-5, 70_000], Gen.Int[-1, 300], Gen.Int[0, 64])
            .Sample(
                t =>
                {
                    var (w, h, max, n) = t;
                    var bytes = System
                        .Text.Encoding.ASCII.GetBytes($"P5 {w} {h} {max}\n")
                        .Concat(new byte[n])
                        .ToArray();
                    OnlyOneLineErrors(() => ImageCodec.DecodePgm(bytes, "fuzz.pgm"));
                },
                iter: N(300)
            );
    }

    [Fact]
    public void MutatedConfigsLoadOrFailWithOneLine()
    {
        var text = File.ReadAllText(Path.Combine(RepoPaths.Root(), "configs", "demo.json"));
        var dir = TestUtil.TempDir();
        int k = 0;
        Gen.Select(Gen.Int[0, text.Length - 1], Gen.Char["{}[]\":,0123456789.-eEtrufalsn x"].Array[1, 3])
            .Array[1, 4]
            .Sample(
                edits =>
                {
                    var chars = text.ToCharArray().ToList();
                    foreach (var (at, insert) in edits.OrderByDescending(e => e.Item1))
                        chars.InsertRange(Math.Min(at, chars.Count), insert);
                    var path = Path.Combine(dir, $"c{k++}.json");
                    File.WriteAllText(path, new string(chars.ToArray()));
                    OnlyOneLineErrors(() => RunConfig.Load(path));
                },
                iter: N(300)
            );
        // YAML: random values for a few keys, numbers included
        Gen.Select(
                Gen.Int[0, 4].Select(i => new[] { "lr", "epochs", "batchSize", "imageSize", "threads" }[i]),
                Gen.String[0, 12]
            )
            .Sample(
                t =>
                {
                    var path = Path.Combine(dir, $"y{k++}.yaml");
                    File.WriteAllText(path, $"name: fuzz\ntrain:\n  {t.Item1}: {t.Item2.Replace("\n", " ")}\n");
                    OnlyOneLineErrors(() => RunConfig.Load(path));
                },
                iter: N(300)
            );
    }

    [Fact]
    public void MutatedExperimentPlansLoadOrFailWithOneLine()
    {
        var text = File.ReadAllText(Path.Combine(RepoPaths.Root(), "configs", "omni", "synthetic.json"));
        var dir = TestUtil.TempDir();
        int k = 0;
        Gen.Select(Gen.Int[0, text.Length - 1], Gen.Int[0, 6], Gen.Char["{}[]\":,#@0123456789 x"].Array[0, 3])
            .Sample(
                t =>
                {
                    var (at, drop, insert) = t;
                    var s = text.Remove(at, Math.Min(drop, text.Length - at)).Insert(at, new string(insert));
                    var path = Path.Combine(dir, $"p{k++}.json");
                    File.WriteAllText(path, s);
                    OnlyOneLineErrors(() => ExperimentPlan.Load(path));
                },
                iter: N(150)
            );
    }

    [Fact]
    public void AnExperimentWithAKeyTwiceIsOneLineNamingTheFile()
    {
        // found by the fuzzer above (seed dqy89uQjnmJ2): the plan reader used its own JSON parse, without the run
        // config's check for a key given twice, and failed with an ArgumentException
        var path = Path.Combine(TestUtil.TempDir(), "twice.json");
        File.WriteAllText(path, """{ "name": "x", "base": {}, "base": {}, "runs": [] }""");
        Assert.False(ExperimentPlan.IsPlan(path));
        var e = Assert.Throws<FaceDistillException>(() => ExperimentPlan.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("a key appears twice", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void AnEmptyFolderInAPlanIsOneLineNamingTheKey()
    {
        // found by the plan fuzzer (seed dEBZ0A63r4C1): "data.extra": [""] reached Path.GetFullPath("") in the plan's
        // check of planned folders and failed with an ArgumentException
        var text = File.ReadAllText(Path.Combine(RepoPaths.Root(), "configs", "omni", "synthetic.json"));
        Assert.Contains("[\"#gm-10\"]", text);
        foreach (var empty in new[] { "", " ", "a\\u0000b" })
        {
            var path = Path.Combine(TestUtil.TempDir(), "empty.json");
            File.WriteAllText(path, text.Replace("[\"#gm-10\"]", $"[\"{empty}\"]"));
            var e = Assert.Throws<FaceDistillException>(() => ExperimentPlan.Load(path));
            Assert.Contains("data.extra", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    [Fact]
    public void AReferenceToARunOrSetThePlanDoesNotHaveIsOneLineNamingTheFile()
    {
        // found by the fuzzer above (seed dM-KUFTj6JF3): "@1" in a run's keys crashed with "Sequence contains no
        // matching element"
        var dir = TestUtil.TempDir();
        foreach (
            var (value, what) in new[]
            {
                ("@nobody", "'@nobody' names no run"),
                ("#nothing", "'#nothing' is not a derive entry"),
            }
        )
        {
            var path = Path.Combine(dir, $"ref{what.Length}.json");
            File.WriteAllText(
                path,
                $$"""{ "name": "x", "baseline": "a", "base": {}, "runs": """
                    + $$"""[ { "name": "a", "set": { "data.extra": ["{{value}}"] } } ] }"""
            );
            var e = Assert.Throws<FaceDistillException>(() => ExperimentPlan.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Contains(what, e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    [Fact]
    public void CsvFieldsSurviveAnyText()
    {
        Gen.String[0, 20]
            .Array[1, 5]
            .Sample(
                fields =>
                {
                    var row = Csv.Row(fields);
                    var back = Csv.Records(row + "\n", "fuzz.csv").Single().Fields;
                    Assert.Equal(fields, back);
                },
                iter: N(500)
            );
        Gen.String[0, 60].Sample(s => OnlyOneLineErrors(() => Csv.Records(s, "fuzz.csv").ToList()), iter: N(500));
    }

    /// <summary>Text mutations: a character span replaced by up to three characters of
    /// <paramref name="alphabet"/>.</summary>
    private static Gen<string> MutatedText(string text, string alphabet) =>
        Gen.Select(Gen.Int[0, text.Length - 1], Gen.Int[0, 6], Gen.Char[alphabet].Array[0, 3])
            .Select(t => text.Remove(t.Item1, Math.Min(t.Item2, text.Length - t.Item1)).Insert(t.Item1, new(t.Item3)));

    [Fact]
    public void MutatedPairListsLoadOrFailWithOneLine()
    {
        var dir = TestUtil.TempDir();
        var images = Path.Combine(dir, "lfw");
        foreach (var (person, n) in new[] { ("Ann_A", 2), ("Bob_B", 1) })
        {
            Directory.CreateDirectory(Path.Combine(images, person));
            for (int i = 1; i <= n; i++)
                File.WriteAllBytes(Path.Combine(images, person, $"{person}_{i:D4}.png"), Png);
        }
        var text = "1\t1\nAnn_A\t1\t2\nAnn_A\t1\tBob_B\t1\n";
        int k = 0;
        MutatedText(text, "\t\n 0123456789-_ABab")
            .Sample(
                t =>
                {
                    var path = Path.Combine(dir, $"pairs{k++}.txt");
                    File.WriteAllText(path, t);
                    OnlyOneLineErrors(() => PairList.LoadLfw(path, images));
                },
                iter: N(300)
            );
    }

    [Fact]
    public void MutatedLandmarkFilesLoadOrFailWithOneLine()
    {
        var points = Enumerable
            .Range(0, Faces.FaceLandmarks.Count)
            .Select(i => new FaceDistill.Faces.Point2(i, 2 * i))
            .ToArray();
        var text =
            Faces.LandmarkCsv.Header + "\n" + Faces.LandmarkCsv.Row("a.png", new Faces.FaceLandmarks(points)) + "\n";
        var dir = TestUtil.TempDir();
        int k = 0;
        MutatedText(text, ",\"\n.-e0123456789xyNaI ")
            .Sample(
                t =>
                {
                    var path = Path.Combine(dir, $"lm{k++}.csv");
                    File.WriteAllText(path, t);
                    OnlyOneLineErrors(() => Faces.LandmarkCsv.Read(path));
                },
                iter: N(300)
            );
    }

    [Fact]
    public void MutatedCheckpointsLoadOrFailWithOneLine()
    {
        // a small model's checkpoint; its files mutated with the manifest gone (so the loaders themselves meet the
        // damage) and with it present (the SHA-256 check names the file)
        var model = FaceDistill.Models.Backbones.Create("iresnet18", 16, 8, width: 0.0625);
        var root = TestUtil.TempDir();
        var ckpt = FaceDistill.Training.Checkpoint.Save(
            root,
            model,
            null,
            new FaceDistill.Training.CheckpointState(1, 0, 0.5, "fuzz", DateTime.UnixEpoch),
            keep: 1
        );
        var weights = File.ReadAllBytes(Path.Combine(ckpt, "model.bin"));
        var state = File.ReadAllText(Path.Combine(ckpt, "state.json"));
        int k = 0;
        Gen.Select(Mutated(weights), MutatedText(state, "{}[]\":,0123456789.-eE x"), Gen.Bool)
            .Sample(
                t =>
                {
                    var (w, st, manifest) = t;
                    var dir = Path.Combine(root, $"m{k++}");
                    Directory.CreateDirectory(dir);
                    File.WriteAllBytes(Path.Combine(dir, "model.bin"), weights);
                    File.WriteAllText(Path.Combine(dir, "state.json"), state);
                    if (manifest)
                        FaceDistill.Training.Checkpoint.WriteManifest(dir);
                    File.WriteAllBytes(Path.Combine(dir, "model.bin"), w);
                    File.WriteAllText(Path.Combine(dir, "state.json"), st);
                    var fresh = FaceDistill.Models.Backbones.Create("iresnet18", 16, 8, width: 0.0625);
                    OnlyOneLineErrors(() => FaceDistill.Training.Checkpoint.LoadWeights(dir, fresh));
                    OnlyOneLineErrors(() => FaceDistill.Training.Checkpoint.LoadState(dir));
                    fresh.Dispose();
                    Directory.Delete(dir, recursive: true);
                },
                iter: N(150)
            );
    }
}
