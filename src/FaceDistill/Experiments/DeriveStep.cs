using System.Text.Json;
using System.Text.Json.Nodes;
using FaceDistill.Core;
using FaceDistill.Omni;

namespace FaceDistill.Experiments;

/// <summary>
/// A training set an experiment derives from one of its runs, per seed, before the first run that reads it
/// (<c>"data.extra": ["#name"]</c>): omni-supervised <b>mining</b> of a face pool with the run's model, or
/// <b>condensation</b> of a labelled set (the run's labelled budget, or a set mined earlier) into N images per class.
/// <code>
/// "derive": [
///   { "name": "mined", "mine": { "model": "primitive", "unlabelled": true, "pool": ["../shared/datasets/utkface"],
///                                "grayscale": true, "rule": "both", "k": 10, "minConfidence": 0.8,
///                                "quotaRatio": 4 } },
///   { "name": "dm-10", "condense": { "from": "mined", "model": "primitive", "algorithm": "dm",
///                                    "imagesPerClass": 10, "iterations": 300 } } ]
/// </code>
/// <c>model</c> names a run of the plan; <c>unlabelled</c> adds the part of that run's training split outside its
/// labelled budget (labels hidden, kept to measure precision); <c>pool</c> adds image folders (a <c>FacePool</c>);
/// <c>grayscale</c> turns pool images grey (FER2013's faces are grey). The remaining keys are those of
/// <see cref="MiningOptions"/> or <see cref="CondenseOptions"/>.
/// </summary>
public sealed record DeriveStep(
    string Name,
    string Model,
    MiningOptions? Mine,
    CondenseOptions? Condense,
    string From,
    IReadOnlyList<string> Pool,
    bool Unlabelled,
    bool Grayscale,
    string Spec
)
{
    /// <summary>The reference to this set in a run's <c>set</c> values.</summary>
    public string Reference => "#" + Name;

    private static readonly string[] MineOwnKeys = ["model", "pool", "unlabelled", "grayscale"];
    private static readonly string[] CondenseOwnKeys = ["model", "from"];

    private static readonly JsonSerializerOptions OptionsJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>One entry of <c>derive</c>; <paramref name="fail"/> reports a problem (naming the file).</summary>
    public static DeriveStep Parse(JsonNode? node, Func<string, Exception> fail)
    {
        if (node is not JsonObject o || o["name"] is not JsonValue nameValue)
            throw fail("every entry of 'derive' must be an object { \"name\": …, \"mine\" | \"condense\": { … } }");
        var name = nameValue.TryGetValue<string>(out var n) ? n : throw fail("derive: 'name' must be a string");
        if (name.Length == 0 || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
            throw fail($"derive: name '{name}' is not usable as a directory name");
        foreach (var (k, _) in o)
            if (k is not ("name" or "mine" or "condense"))
                throw fail($"derive '{name}': unknown key '{k}' (expected name, mine or condense)");
        if ((o["mine"] is null) == (o["condense"] is null))
            throw fail($"derive '{name}': give exactly one of 'mine' and 'condense'");
        bool mine = o["mine"] is not null;
        var body =
            (o[mine ? "mine" : "condense"] as JsonObject)?.DeepClone() as JsonObject
            ?? throw fail($"derive '{name}': '{(mine ? "mine" : "condense")}' must be an object");
        string Text(string key, string? fallback)
        {
            var v = body[key];
            if (v is null)
                return fallback ?? throw fail($"derive '{name}': key '{key}' is required");
            return v is JsonValue jv && jv.TryGetValue<string>(out var s)
                ? s
                : throw fail($"derive '{name}': key '{key}' must be a string");
        }
        bool Flag(string key)
        {
            var v = body[key];
            if (v is null)
                return false;
            return v is JsonValue jv && jv.TryGetValue<bool>(out var b)
                ? b
                : throw fail($"derive '{name}': key '{key}' must be true or false");
        }
        var spec = o.ToJsonString();
        var model = Text("model", null);
        if (mine)
        {
            var pool = new List<string>();
            if (body["pool"] is JsonArray arr)
                foreach (var f in arr)
                    pool.Add(
                        f is JsonValue fv && fv.TryGetValue<string>(out var s)
                            ? s
                            : throw fail($"derive '{name}': 'pool' must list folders")
                    );
            else if (body["pool"] is not null)
                throw fail($"derive '{name}': 'pool' must be a list of folders");
            foreach (var f in pool)
                if (!Directory.Exists(f))
                    throw FaceDistillException.ForFile(f, $"face-pool folder not found (derive '{name}')");
            bool unlabelled = Flag("unlabelled");
            if (pool.Count == 0 && !unlabelled)
                throw fail($"derive '{name}': nothing to mine (give 'pool' folders or \"unlabelled\": true)");
            var options = Options<MiningOptions>(body, MineOwnKeys, name, fail);
            Checked(options.Check, name, fail);
            return new DeriveStep(name, model, options, null, "", pool, unlabelled, Flag("grayscale"), spec);
        }
        var from = Text("from", "labelled");
        var condense = Options<CondenseOptions>(body, CondenseOwnKeys, name, fail);
        if (body["seed"] is not null)
            throw fail($"derive '{name}': 'seed' comes from the experiment's seeds");
        Checked(condense.Check, name, fail);
        return new DeriveStep(name, model, null, condense, from, [], false, false, spec);
    }

    private static T Options<T>(JsonObject body, string[] own, string name, Func<string, Exception> fail)
    {
        foreach (var k in own)
            body.Remove(k);
        try
        {
            return body.Deserialize<T>(OptionsJson)!;
        }
        catch (JsonException e)
        {
            throw fail($"derive '{name}': {e.Message.Split(". ")[0]}");
        }
    }

    private static void Checked(Action check, string name, Func<string, Exception> fail)
    {
        try
        {
            check();
        }
        catch (FaceDistillException e)
        {
            throw fail($"derive '{name}': {e.Message}");
        }
    }
}
