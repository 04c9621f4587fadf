using FaceDistill.Config;

namespace FaceDistill.Tests;

internal static class TestUtil
{
    /// <summary>Every parameter of the latest checkpoint in <paramref name="checkpointDir"/>, flattened in order: what
    /// "ends with the same weights" compares.</summary>
    public static float[] CheckpointWeights(string checkpointDir, RunSettings cfg, int classes)
    {
        using var m = FaceDistill.Models.ModelFactory.Create(cfg, classes);
        FaceDistill.Training.Checkpoint.LoadWeights(FaceDistill.Training.Checkpoint.Latest(checkpointDir)!, m);
        return m.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
    }

    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "facedistill-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>A small set of rendered synthetic faces (for tests that write them to disk as a folder
    /// dataset).</summary>
    public static FaceDistill.Data.Synthetic.SyntheticFaces Faces(
        int identities,
        int perIdentity,
        int size,
        int seed
    ) =>
        new(
            new FaceDistill.Data.Synthetic.SyntheticOptions
            {
                Identities = identities,
                ImagesPerIdentity = perIdentity,
                Size = size,
                Seed = seed,
            }
        );

    /// <summary>Copies a folder with everything in it.</summary>
    public static void CopyDirectory(string from, string to)
    {
        foreach (var d in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, d)));
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(f, Path.Combine(to, Path.GetRelativePath(from, f)));
    }

    /// <summary>../shared beside the repository, or null (tests that need it skip with a message).</summary>
    public static string? Shared()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FaceDistill.sln")))
            dir = dir.Parent;
        if (dir?.Parent is null)
            return null;
        var shared = Path.Combine(dir.Parent.FullName, "shared");
        return Directory.Exists(shared) ? shared : null;
    }

    /// <summary>Trains <see cref="Tiny"/> (<paramref name="name"/>, one epoch, at <paramref name="imageSize"/> px) with
    /// the command line into <c>root/name</c>, and returns that run directory.</summary>
    public static string TrainTiny(string root, string name, int imageSize = 32)
    {
        var c = Tiny(name, 1);
        c = c with { Data = c.Data with { ImageSize = imageSize } };
        var cfg = Path.Combine(root, $"{name}.json");
        File.WriteAllText(cfg, System.Text.Json.JsonSerializer.Serialize(c, ConfigLoader.Json));
        var (code, _, err) = CliHarness.Run("train", cfg, "--runs", root, "--quiet");
        Assert.True(code == 0, err);
        return Path.Combine(root, name);
    }

    /// <summary>A tiny recognition config that trains in seconds (the demo's job at its smallest).</summary>
    public static RunSettings Tiny(string name, int epochs = 2) => Runs.Demo.Tiny(name, epochs);
}

/// <summary>A tiny LFW in LFW's own layout, from synthetic faces.</summary>
internal static class LfwStyle
{
    /// <summary>Writes 4 synthetic identities × 3 faces (64 px) as <c>lfw/Pk/Pk_000n.png</c> with their 68 landmarks
    /// in <c>lfw/landmarks.csv</c>, and <c>pairs.txt</c> with 2 folds of 2 same + 2 different pairs.</summary>
    public static (string Images, string Pairs, string Landmarks) Write(string root)
    {
        var gallery = Path.Combine(root, "gallery");
        var (code, _, err) = CliHarness.Run(
            "synth",
            gallery,
            "--identities",
            "4",
            "--images",
            "3",
            "--size",
            "64",
            "--seed",
            "11",
            "--quiet"
        );
        if (code != 0)
            throw new InvalidOperationException(err);
        var lfw = Path.Combine(root, "lfw");
        var ids = Directory.GetDirectories(gallery).Select(Path.GetFileName).Order().ToArray();
        var marks = File.ReadAllLines(Path.Combine(gallery, "landmarks.csv"));
        var renamed = new List<string> { marks[0] };
        for (int p = 0; p < ids.Length; p++)
        for (int k = 0; k < 3; k++)
        {
            var from = $"{ids[p]}/{k:D3}.png";
            var to = $"P{p}/P{p}_{k + 1:D4}.png";
            Directory.CreateDirectory(Path.Combine(lfw, $"P{p}"));
            File.Copy(Path.Combine(gallery, from), Path.Combine(lfw, to));
            renamed.Add(to + marks.First(l => l.StartsWith(from + ",", StringComparison.Ordinal))[from.Length..]);
        }
        var landmarks = Path.Combine(lfw, "landmarks.csv");
        File.WriteAllLines(landmarks, renamed);
        var pairs = Path.Combine(root, "pairs.txt");
        File.WriteAllLines(
            pairs,
            ["2 2", "P0 1 2", "P1 1 2", "P0 1 P1 1", "P2 1 P3 1", "P2 1 3", "P3 2 3", "P0 2 P2 2", "P1 3 P3 3"]
        );
        return (lfw, pairs, landmarks);
    }
}

internal static class RepoPaths
{
    /// <summary>The repository root (the folder holding FaceDistill.sln).</summary>
    public static string Root()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FaceDistill.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}

internal static class CliHarness
{
    /// <summary>Runs the facedistill command line in-process, capturing its exit code, stdout and stderr.</summary>
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(o);
        Console.SetError(e);
        try
        {
            return (FaceDistill.Cli.Commands.Run(args), o.ToString(), e.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }
}
