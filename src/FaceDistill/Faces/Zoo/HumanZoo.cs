using System.Text.Json;
using FaceDistill.Core;

namespace FaceDistill.Faces.Zoo;

/// <summary>
/// The stronger teachers: the MIT-licensed npm package <c>@vladmandic/human@3.3.6</c>, whose <c>models/</c> folder
/// holds tfjs graph models (<see cref="TfjsGraph"/>) — among them <c>faceres</c>, HSE-asavchenko's MobileNet-v1 face
/// model (1024-d identity embedding, age, gender). Installed from npm into the same cache as the face-api zoo
/// (<c>$FACEDISTILL_HOME</c>, default <c>~/.cache/facedistill</c>), never into the repository, with SHA-256 checksums
/// recorded at installation and checked by <see cref="Verify"/>.
/// </summary>
public static class HumanZoo
{
    public const string Package = "@vladmandic/human";
    public const string Version = "3.3.6";

    /// <summary>Model → expected .bin size in bytes (as the package ships them).</summary>
    public static readonly IReadOnlyDictionary<string, long> Models = new Dictionary<string, long>
    {
        ["faceres"] = 6_978_814,
    };

    public static string ModelDir(string? home = null) =>
        Path.Combine(home ?? ModelZoo.Home, $"human-{Version}", "models");

    public static string ModelJson(string model, string? home = null) => Path.Combine(ModelDir(home), $"{model}.json");

    /// <summary>Problems with the installed files (empty = all good).</summary>
    public static List<string> Verify(string? home = null)
    {
        var dir = ModelDir(home);
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
        foreach (var (model, size) in Models)
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

    /// <summary>Installs the package's models from npm (idempotent: nothing happens when a verified copy
    /// exists).</summary>
    public static string Install(string? home = null, Action<string>? log = null)
    {
        var dir = ModelDir(home);
        if (Verify(home).Count == 0)
            return dir;
        var work = Path.Combine(Path.GetTempPath(), $"facedistill-npm-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            log?.Invoke($"fetching {Package}@{Version} from npm");
            var tgz = ModelZoo.NpmPack(Package, Version, work);
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
                        n => Models.Keys.Any(m => n == $"{m}.json" || n == $"{m}.bin")
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
        var problems = Verify(home);
        if (problems.Count > 0)
            throw new FaceDistillException($"installed {Package}@{Version}, but: {problems[0]}");
        return dir;
    }
}
