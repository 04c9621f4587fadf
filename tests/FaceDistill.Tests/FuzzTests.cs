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
        Mutated(Png).Sample(b => OnlyOneLineErrors(() => ImageCodec.Decode(b, "fuzz.png")), iter: 400);
        Mutated(Jpeg).Sample(b => OnlyOneLineErrors(() => ImageCodec.Decode(b, "fuzz.jpg")), iter: 400);
        Gen.Byte.Array[0, 64].Sample(b => OnlyOneLineErrors(() => ImageCodec.Decode(b, "fuzz.bin")), iter: 200);
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
                iter: 300
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
                iter: 300
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
                iter: 300
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
                iter: 150
            );
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
                iter: 500
            );
        Gen.String[0, 60].Sample(s => OnlyOneLineErrors(() => Csv.Records(s, "fuzz.csv").ToList()), iter: 500);
    }
}
