using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using FaceDistill.Core;
using FaceDistill.Graphs.Tfjs;

namespace FaceDistill.Faces.Zoo;

/// <summary>The teacher zoo's weights: the MIT-licensed npm package <c>@vladmandic/face-api@1.7.15</c>, whose
/// <c>model/</c> folder holds seven pretrained nets as tfjs manifests + .bin files. They are installed from npm into a
/// cache outside the repository (<c>$FACEDISTILL_HOME</c>, default <c>~/.cache/facedistill</c>) and never committed.
/// Integrity: every manifest must parse with byte counts equal to the .bin sizes of faceapi/SPEC.md's table, and
/// SHA-256 checksums recorded at install time catch later alteration.</summary>
public static class ModelZoo
{
    public const string Package = "@vladmandic/face-api";
    public const string Version = "1.7.15";

    /// <summary>Model name → expected .bin size in bytes (faceapi/SPEC.md §0.1; the tiny landmark net's measured from
    /// the package).</summary>
    public static readonly IReadOnlyDictionary<string, long> Models = new Dictionary<string, long>
    {
        ["face_recognition_model"] = 6_444_032,
        ["ssd_mobilenetv1_model"] = 5_616_957,
        ["age_gender_model"] = 429_708,
        ["face_landmark_68_model"] = 356_840,
        ["face_expression_model"] = 329_468,
        ["tiny_face_detector_model"] = 193_321,
        ["face_landmark_68_tiny_model"] = 77_224,
    };

    /// <summary>Where the nets are installed: <see cref="CacheHome"/>.</summary>
    public static string Home => CacheHome.Path;

    public static string ModelDir(string? home = null) => Path.Combine(home ?? Home, $"face-api-{Version}", "model");

    /// <summary>The package's six demo photos (<c>demo/sample1..6.jpg</c>), used by <c>models verify</c> and the
    /// examples.</summary>
    public static string DemoDir(string? home = null) => Path.Combine(home ?? Home, $"face-api-{Version}", "demo");

    public static string[] DemoImages(string? home = null) =>
        Enumerable.Range(1, 6).Select(i => Path.Combine(DemoDir(home), $"sample{i}.jpg")).ToArray();

    public static string Manifest(string model, string? home = null) =>
        Path.Combine(ModelDir(home), $"{model}-weights_manifest.json");

    /// <summary>The manifest of <paramref name="model"/>, its files checked against the checksums recorded at
    /// installation first: weights changed since then (or no checksums at all) are an error naming the file.</summary>
    public static string CheckedManifest(string model, string? home = null)
    {
        var manifest = Manifest(model, home);
        var dir = ModelDir(home);
        var sums = ReadChecksums(dir);
        if (!File.Exists(manifest))
            throw FaceDistillException.ForFile(manifest, "not installed (run `facedistill models install`)");
        if (sums.Count == 0)
            throw FaceDistillException.ForFile(
                Path.Combine(dir, "checksums.json"),
                "no checksums recorded (reinstall with `facedistill models install`)"
            );
        foreach (var (file, hash) in sums.Where(kv => kv.Key.StartsWith(model, StringComparison.Ordinal)))
        {
            var path = Path.Combine(dir, file);
            if (!File.Exists(path) || Sha256(path) != hash)
                throw FaceDistillException.ForFile(
                    path,
                    "changed since installation (SHA-256 differs); reinstall with `facedistill models install`"
                );
        }
        return manifest;
    }

    /// <summary>Problems with the installed files (empty = all good).</summary>
    public static List<string> Verify(string? home = null)
    {
        var dir = ModelDir(home);
        var problems = new List<string>();
        if (!Directory.Exists(dir))
        {
            problems.Add($"{dir}: not installed (run `facedistill models install`)");
            return problems;
        }
        var sums = ReadChecksums(dir);
        if (sums.Count == 0)
            problems.Add(
                $"{Path.Combine(dir, "checksums.json")}: no checksums recorded (reinstall with `facedistill models "
                    + $"install`)"
            );
        foreach (var (model, size) in Models)
        {
            var manifest = Manifest(model, home);
            try
            {
                var w = TfjsWeights.Load(manifest);
                long bytes = w.Entries.Sum(e => e.Bytes);
                if (bytes != size)
                    problems.Add($"{manifest}: {bytes} bytes of weights, the package's are {size}");
            }
            catch (FaceDistillException e)
            {
                problems.Add(e.Message);
            }
        }
        foreach (var (file, hash) in sums)
        {
            var path = Path.Combine(dir, file);
            if (!File.Exists(path))
                problems.Add($"{path}: missing");
            else if (Sha256(path) != hash)
                problems.Add($"{path}: altered since installation (SHA-256 differs)");
        }
        return problems;
    }

    /// <summary>Installs the package's model folder from npm (idempotent: nothing happens when a verified copy
    /// exists).</summary>
    public static string Install(string? home = null, Action<string>? log = null)
    {
        var dir = ModelDir(home);
        if (Directory.Exists(dir) && Verify(home).Count == 0 && DemoImages(home).All(File.Exists))
            return dir;
        var work = Path.Combine(Path.GetTempPath(), $"facedistill-npm-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            log?.Invoke($"fetching {Package}@{Version} from npm");
            var tgz = NpmPack(Package, Version, work);
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
            var demo = DemoDir(home);
            if (Directory.Exists(demo))
                Directory.Delete(demo, recursive: true);
            AtomicFile.WriteDirectory(
                demo,
                tmp => Extract(tgz, "package/demo/", tmp, n => n.StartsWith("sample") && n.EndsWith(".jpg"))
            );
            AtomicFile.WriteDirectory(
                dir,
                tmp =>
                {
                    Extract(tgz, "package/model/", tmp, _ => true);
                    var sums = Directory
                        .GetFiles(tmp)
                        .Where(f => f.EndsWith(".bin") || f.EndsWith(".json"))
                        .ToDictionary(f => Path.GetFileName(f), Sha256);
                    File.WriteAllText(
                        Path.Combine(tmp, "checksums.json"),
                        JsonSerializer.Serialize(sums, new JsonSerializerOptions { WriteIndented = true })
                    );
                }
            );
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
        var problems = Verify(home);
        if (problems.Count > 0)
            throw new FaceDistillException($"installed {Package}@{Version}, but: {problems[0]}");
        return dir;
    }

    /// <summary><c>npm pack package@version</c> into <paramref name="work"/>; the path of the .tgz.</summary>
    internal static string NpmPack(string package, string version, string work)
    {
        Run("npm", ["pack", $"{package}@{version}", "--pack-destination", work, "--silent"], work);
        return Directory.GetFiles(work, "*.tgz").SingleOrDefault()
            ?? throw new FaceDistillException($"npm pack {package}@{version} produced no package");
    }

    internal static void Extract(string tgz, string prefix, string into, Func<string, bool> keep)
    {
        using var gz = new GZipStream(File.OpenRead(tgz), CompressionMode.Decompress);
        using var tar = new TarReader(gz);
        while (tar.GetNextEntry() is { } entry)
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                continue;
            if (!entry.Name.StartsWith(prefix, StringComparison.Ordinal))
                continue;
            var name = entry.Name[prefix.Length..];
            if (name.Length == 0 || name.Contains('/') || !keep(name))
                continue;
            entry.ExtractToFile(Path.Combine(into, name), overwrite: true);
        }
    }

    private static Dictionary<string, string> ReadChecksums(string dir)
    {
        var path = Path.Combine(dir, "checksums.json");
        if (!File.Exists(path))
            return [];
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) ?? [];
        }
        catch (JsonException)
        {
            throw FaceDistillException.ForFile(
                path,
                "malformed checksum file (reinstall with `facedistill models install --force`)"
            );
        }
    }

    public static string Sha256(string path)
    {
        using var s = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(s)).ToLowerInvariant();
    }

    private static void Run(string exe, string[] args, string cwd)
    {
        var psi = new ProcessStartInfo(exe)
        {
            WorkingDirectory = cwd,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new FaceDistillException(
                $"`{exe}` is not installed: it is needed to fetch {Package} (install Node.js/npm)"
            );
        }
        var err = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(true);
            throw new FaceDistillException($"`{exe} {string.Join(' ', args)}` did not finish in 5 minutes");
        }
        if (p.ExitCode != 0)
            throw new FaceDistillException(
                $"`{exe} {string.Join(' ', args)}` failed: "
                    + (
                        err.Result.Split('\n').FirstOrDefault(l => l.Contains("ERR"))?.Trim()
                        ?? $"exit code {p.ExitCode}"
                    )
            );
    }
}
