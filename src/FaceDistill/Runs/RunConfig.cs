using System.Text.Json;
using System.Text.Json.Nodes;
using FaceDistill.Config;
using FaceDistill.Distillation;

namespace FaceDistill.Runs;

/// <summary>A run config made ready to use: read (<see cref="ConfigLoader"/>: syntax, keys, types), resolved (the
/// chosen distillation method's defaults filled in; keys it does not read rejected) and checked (<see
/// cref="RunConfigValidator"/>) — all before any work starts, each problem one line naming the file and the key.
/// </summary>
public static class RunConfig
{
    /// <summary>Loads <paramref name="path"/> (or the defaults when null), applies <paramref name="overrides"/>,
    /// resolves and checks it.</summary>
    public static ResolvedRun Load(string? path, IEnumerable<string>? overrides = null) =>
        Resolve(ConfigLoader.Load(path, overrides), path ?? "(defaults)");

    public static ResolvedRun FromNode(JsonObject root, string source, Func<string, bool>? planned = null) =>
        Resolve(ConfigLoader.FromNode(root, source), source, planned);

    /// <summary>The config with its method's defaults filled in, checked. Idempotent.</summary>
    public static ResolvedRun Resolve(RunSettings c, string source, Func<string, bool>? planned = null) =>
        Resolve(c, new ConfigChecks(source, planned));

    /// <summary>The config resolved and checked by <paramref name="checks"/> (which may record the rules it
    /// applies).</summary>
    public static ResolvedRun Resolve(RunSettings c, ConfigChecks checks)
    {
        var resolved = c with { Distill = DistillationMethods.Resolve(c.Distill, checks) };
        RunConfigValidator.Validate(resolved, checks);
        return new ResolvedRun(resolved);
    }

    /// <summary>
    /// True when the config a run directory was started with (its config.json) is <paramref name="cfg"/>. A config.json
    /// written before method keys were per method (every <c>distill.*</c> key stored with its shared default) matches
    /// when each key its method did not read carries a default some method declares for that key.
    /// </summary>
    public static bool SameAs(string storedJson, RunSettings cfg)
    {
        var current = ConfigLoader.ToJson(cfg);
        if (storedJson == current)
            return true;
        JsonNode? stored;
        try
        {
            stored = JsonNode.Parse(storedJson);
        }
        catch (JsonException)
        {
            return false;
        }
        if (stored is not JsonObject s || JsonNode.Parse(current) is not JsonObject now)
            return false;
        if (s["distill"] is JsonObject d && now["distill"] is JsonObject nd)
            foreach (var (key, v) in d.ToList())
                if (nd[key] is null && v is not null && DistillationMethods.Defaults(key).Any(old => Same(v, old)))
                    d.Remove(key);
        if (Same(s, now))
            return true;
        // a config saved before a key existed: read back through today's records and today's method entries, the new
        // keys take their defaults (a record's, or the method's for a key a method declared later)
        try
        {
            var older = ConfigLoader.FromNode(s, "stored config");
            older = older with
            {
                Distill = DistillationMethods.Resolve(older.Distill, new ConfigChecks("stored config")),
            };
            return Same(JsonNode.Parse(ConfigLoader.ToJson(older))!, now);
        }
        catch (Exception e) when (e is Core.FaceDistillException or JsonException)
        {
            return false;
        }
    }

    private static double Number(JsonValue v) =>
        double.Parse(
            v.ToJsonString(),
            System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture
        );

    /// <summary>JSON equality: objects regardless of key order, numbers by value.</summary>
    private static bool Same(JsonNode? a, JsonNode? b) =>
        (a, b) switch
        {
            (null, null) => true,
            (JsonObject x, JsonObject y) => x.Count == y.Count
                && x.All(kv => y.ContainsKey(kv.Key) && Same(kv.Value, y[kv.Key])),
            (JsonArray x, JsonArray y) => x.Count == y.Count && x.Zip(y).All(p => Same(p.First, p.Second)),
            (JsonValue x, JsonValue y)
                when x.GetValueKind() == JsonValueKind.Number && y.GetValueKind() == JsonValueKind.Number => Number(x)
                == Number(y),
            (JsonValue x, JsonValue y) => x.ToJsonString() == y.ToJsonString(),
            _ => false,
        };
}
