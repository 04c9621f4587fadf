using System.Text.Json;
using System.Text.Json.Nodes;
using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Evaluation;
using FaceDistill.Faces;

namespace FaceDistill.Experiments;

/// <summary>Reads the parts of an experiment file (<see cref="ExperimentPlan"/>); every problem is one line naming the
/// file and the key.</summary>
internal sealed class PlanReader
{
    private static readonly string[] RunKeys = ["name", "from", "set", "reference", "teacher", "baseline"];
    private static readonly string[] PresetKeys = ["from", "set"];
    private static readonly string[] AlignKeys =
    [
        "align",
        "out",
        "landmarks",
        "size",
        "detector",
        "minScore",
        "fallbackBox",
        "pad",
    ];

    private readonly string _path;

    public JsonObject Root { get; }

    private PlanReader(string path, JsonObject root)
    {
        _path = path;
        Root = root;
    }

    public static PlanReader Open(string path)
    {
        if (!File.Exists(path))
            throw FaceDistillException.ForFile(path, "experiment file not found");
        return new PlanReader(
            path,
            ConfigLoader.ParseJson(File.ReadAllText(path), path) as JsonObject
                ?? throw FaceDistillException.ForFile(path, "the experiment must be an object at the top level")
        );
    }

    public FaceDistillException Error(string problem) => FaceDistillException.ForFile(_path, problem);

    public void Fail(string problem) => throw Error(problem);

    public string Str(JsonObject o, string key, string? fallback = null)
    {
        if (o[key] is null)
            return fallback ?? throw Error($"key '{key}' is required");
        try
        {
            return o[key]!.GetValue<string>();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw Error($"key '{key}' must be a string");
        }
    }

    private double Num(JsonObject o, string key, double fallback, string where)
    {
        if (o[key] is null)
            return fallback;
        try
        {
            return o[key]!.GetValue<double>();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw Error($"{where}: '{key}' must be a number");
        }
    }

    public int[] Seeds()
    {
        int[] seeds;
        try
        {
            seeds = Root["seeds"]?.Deserialize<int[]>() ?? [1];
        }
        catch (JsonException)
        {
            throw Error("key 'seeds' must be a list of integers");
        }
        if (seeds.Length == 0 || seeds.Distinct().Count() != seeds.Length)
            Fail("key 'seeds' must list at least one seed, each once");
        return seeds;
    }

    public string[] Views()
    {
        string[] views;
        try
        {
            views = Root["views"]?.Deserialize<string[]>() ?? [];
        }
        catch (JsonException)
        {
            throw Error("key 'views' must be a list of view names");
        }
        foreach (var v in views)
        {
            try
            {
                ViewColumn.Parse(v);
            }
            catch (FaceDistillException e)
            {
                Fail($"views: {e.Message}");
            }
        }
        return views;
    }

    /// <summary><c>"crossTests": { "name": "folder" }</c>: class-folder datasets every model is also tested on (the
    /// classification tasks; not with combinations).</summary>
    public List<(string Name, string Folder)> CrossTests()
    {
        var tests = new List<(string, string)>();
        if (Root["crossTests"] is null)
            return tests;
        if (Root["crossTests"] is not JsonObject o)
            throw Error("key 'crossTests' must be an object { \"name\": \"class folder\" }");
        var views = Views();
        foreach (var (name, node) in o)
        {
            var folder =
                node is JsonValue v && v.TryGetValue<string>(out var f)
                    ? f
                    : throw Error($"crossTests: '{name}' must name a folder");
            if (views.Contains(name) || name.Length == 0)
                Fail($"crossTests: name '{name}' is empty or is also a view");
            if (!Directory.Exists(folder))
                throw FaceDistillException.ForFile(folder, $"cross-dataset test folder not found (crossTests.{name})");
            tests.Add((name, folder));
        }
        if (tests.Count > 0 && Root["combine"] is JsonArray { Count: > 0 })
            Fail("crossTests cannot be combined with 'combine' (combinations are evaluated on views only)");
        var task = (Root["base"] as JsonObject)?["task"]?.GetValue<string>() ?? "recognition";
        if (tests.Count > 0 && task is not ("expression" or "gender"))
            Fail($"crossTests are class folders: for the expression and gender tasks, not '{task}'");
        return tests;
    }

    /// <summary><c>"presets": { "name": { "from": "other preset", "set": { … } } }</c>: named groups of run keys a run
    /// starts <c>from</c>, so a variant states only what differs. A preset's keys are its <c>from</c>'s, then its own
    /// (a later value of a key wins); <c>from</c> names an earlier preset.</summary>
    public Dictionary<string, List<(string Key, JsonNode? Value)>> Presets()
    {
        var presets = new Dictionary<string, List<(string, JsonNode?)>>();
        if (Root["presets"] is null)
            return presets;
        if (Root["presets"] is not JsonObject o)
            throw Error("key 'presets' must be an object { \"name\": { \"from\": …, \"set\": { … } } }");
        foreach (var (name, node) in o)
        {
            if (node is not JsonObject p)
                throw Error($"presets.{name} must be an object {{ \"from\": …, \"set\": {{ … }} }}");
            foreach (var (k, _) in p)
                if (!PresetKeys.Contains(k))
                    Fail($"presets.{name}: unknown key '{k}' (expected {string.Join(", ", PresetKeys)})");
            var keys = new List<(string, JsonNode?)>();
            if (p["from"] is not null)
            {
                var from = Str(p, "from");
                keys.AddRange(
                    presets.TryGetValue(from, out var earlier)
                        ? earlier
                        : throw Error($"presets.{name}.from: '{from}' is not an earlier preset")
                );
            }
            presets[name] = Then(keys, SetOf(p, $"presets.{name}"));
        }
        return presets;
    }

    public List<PlanRun> Runs()
    {
        if (Root["runs"] is not JsonArray runsArr || runsArr.Count == 0)
            throw Error("key 'runs' must be a non-empty list");
        var presets = Presets();
        var runs = new List<PlanRun>();
        foreach (var node in runsArr)
        {
            if (node is not JsonObject r)
                throw Error("every entry of 'runs' must be an object");
            runs.Add(Run(r, runs, presets));
        }
        return runs;
    }

    /// <summary>The keys of <paramref name="first"/> then those of <paramref name="then"/>; a key set in both keeps
    /// only its later value (in its later place).</summary>
    private static List<(string Key, JsonNode? Value)> Then(
        List<(string Key, JsonNode? Value)> first,
        List<(string Key, JsonNode? Value)> then
    ) => first.Where(kv => then.All(t => t.Key != kv.Key)).Concat(then).ToList();

    /// <summary>The keys of an object's <c>set</c>, in order.</summary>
    private List<(string Key, JsonNode? Value)> SetOf(JsonObject r, string where)
    {
        var set = new List<(string, JsonNode?)>();
        if (r["set"] is JsonObject s)
            foreach (var (k, v) in s)
                set.Add((k, v?.DeepClone()));
        else if (r["set"] is not null)
            Fail($"{where}.set must be an object of config keys");
        return set;
    }

    private PlanRun Run(
        JsonObject r,
        List<PlanRun> earlier,
        Dictionary<string, List<(string Key, JsonNode? Value)>> presets
    )
    {
        foreach (var (k, _) in r)
            if (!RunKeys.Contains(k))
                Fail($"runs: unknown key '{k}' (expected {string.Join(", ", RunKeys)})");
        var rn = Str(r, "name");
        if (earlier.Any(x => x.Name == rn))
            Fail($"runs: '{rn}' appears twice");
        if (presets.ContainsKey(rn))
            Fail($"runs: '{rn}' is also the name of a preset");
        // a run starts from a preset's keys or an earlier run's, then sets its own (a later value of a key wins)
        var set = new List<(string, JsonNode?)>();
        if (r["from"] is not null)
        {
            var from = Str(r, "from");
            set.AddRange(
                (
                    presets.TryGetValue(from, out var preset) ? preset
                    : earlier.FirstOrDefault(x => x.Name == from) is { Teacher: null } run ? run.Set
                    : throw Error($"runs.{rn}.from: '{from}' is neither a preset nor an earlier trained run")
                ).Select(kv => (kv.Key, kv.Value?.DeepClone()))
            );
        }
        set = Then(set, SetOf(r, $"runs.{rn}"));
        foreach (var (k, v) in set)
            if (
                v is JsonValue jv
                && jv.TryGetValue<string>(out var str)
                && str.StartsWith('@')
                && !earlier.Any(x => x.Name == str[1..])
            )
                Fail($"runs.{rn}.set.{k}: '{str}' does not name an earlier run");
        bool reference = r["reference"] is JsonValue refv && refv.TryGetValue<bool>(out var b) && b;
        string? teacher = r["teacher"] is null ? null : Str(r, "teacher");
        if (teacher is not null)
        {
            if (set.FirstOrDefault(kv => kv.Item1 != "data.imageSize") is { Item1: { } key })
                Fail(
                    $"runs.{rn}.set.{key}: a teacher row evaluates '{teacher}' as it is; its 'set' takes only "
                        + "data.imageSize (the crop size it is measured at)"
                );
            if (
                !teacher.StartsWith("zoo:", StringComparison.Ordinal)
                && !teacher.StartsWith("onnx:", StringComparison.Ordinal)
            )
                Fail(
                    $"runs.{rn}.teacher: '{teacher}' must be zoo:<net> or onnx:<model> (a trained teacher is a "
                        + $"reference run)"
                );
            reference = true;
        }
        string? against = r["baseline"] is null ? null : Str(r, "baseline");
        if (against is not null && reference)
            Fail($"runs.{rn}.baseline: a reference run has no p-value, so no baseline");
        return new PlanRun(rn, set, reference, teacher, against);
    }

    /// <summary>A run's own baseline must be another run of the plan: a trained run, or a reference row (e.g. the
    /// teacher the run is distilled from).</summary>
    public static void CheckBaselines(PlanReader reader, IReadOnlyList<PlanRun> runs)
    {
        foreach (var r in runs.Where(r => r.Against is not null))
        {
            if (r.Against == r.Name)
                reader.Fail($"runs.{r.Name}.baseline: a run cannot be its own baseline");
            if (!runs.Any(x => x.Name == r.Against))
                reader.Fail($"runs.{r.Name}.baseline: '{r.Against}' is not one of the runs");
        }
    }

    public List<PlanCombination> Combinations(IReadOnlyList<PlanRun> runs)
    {
        var combine = new List<PlanCombination>();
        if (Root["combine"] is not JsonArray comb)
            return combine;
        foreach (var node in comb)
        {
            if (node is not JsonObject c)
                throw Error("every entry of 'combine' must be an object");
            var of = c["of"]?.Deserialize<string[]>() ?? [];
            var cn = Str(c, "name");
            if (of.Length < 2)
                Fail($"combine.{cn}: 'of' must name at least two runs");
            foreach (var o in of)
                if (!runs.Any(r => r.Name == o && !r.Reference))
                    Fail($"combine.{cn}: '{o}' is not one of the (non-reference) runs");
            var against = c["baseline"] is null ? null : Str(c, "baseline");
            if (against is not null && !runs.Any(r => r.Name == against))
                Fail($"combine.{cn}.baseline: '{against}' is not one of the runs");
            combine.Add(new PlanCombination(cn, of, against));
        }
        return combine;
    }

    public List<AlignStep> Prepare()
    {
        var prepare = new List<AlignStep>();
        if (Root["prepare"] is not JsonArray prep)
            return prepare;
        foreach (var node in prep)
        {
            if (node is not JsonObject a || a["align"] is null)
                throw Error("every entry of 'prepare' must be an object { \"align\": <folder>, \"out\": <folder>, … }");
            foreach (var (k, _) in a)
                if (!AlignKeys.Contains(k))
                    Fail($"prepare: unknown key '{k}' (expected {string.Join(", ", AlignKeys)})");
            var step = new AlignStep(
                Str(a, "align"),
                Str(a, "out"),
                a["landmarks"] is null ? null : Str(a, "landmarks"),
                (int)Num(a, "size", 112, "prepare"),
                Str(a, "detector", FaceDetectors.Default),
                Num(a, "minScore", 0.5, "prepare"),
                Num(a, "fallbackBox", 0, "prepare"),
                Num(a, "pad", 0, "prepare"),
                Str(a, "alignFrom", "keypoints")
            );
            if (step.AlignFrom is not ("keypoints" or "landmarks"))
                Fail($"prepare: alignFrom must be keypoints or landmarks, got '{step.AlignFrom}'");
            if (!Directory.Exists(step.Input))
                throw FaceDistillException.ForFile(step.Input, "folder to align not found (prepare)");
            if (step.Landmarks is not null && !File.Exists(step.Landmarks))
                throw FaceDistillException.ForFile(step.Landmarks, "landmarks file not found (prepare)");
            if (!FaceDetectors.Names.Contains(step.Detector))
                Fail($"prepare: detector '{step.Detector}' is not one of {string.Join(", ", FaceDetectors.Names)}");
            if (step.Size < 16 || step.FallbackBox is < 0 or > 1 || step.MinScore is < 0 or > 1)
                Fail("prepare: size must be ≥ 16, fallbackBox and minScore in [0, 1]");
            if (step.Pad is < 0 or > 2)
                Fail($"prepare: pad must be in [0, 2] (a fraction of the image's shorter side), got {step.Pad}");
            prepare.Add(step);
        }
        return prepare;
    }

    /// <summary>The <c>derive</c> entries: names unique, each <c>model</c> a trained run of the plan, each
    /// <c>from</c> the labelled budget or an earlier entry, every <c>#name</c> of a run defined, and every run a set is
    /// derived from listed before the first run that reads the set.</summary>
    public List<DeriveStep> Derive(IReadOnlyList<PlanRun> runs)
    {
        var steps = new List<DeriveStep>();
        if (Root["derive"] is JsonArray arr)
            foreach (var node in arr)
            {
                var d = DeriveStep.Parse(node, Error);
                if (steps.Any(x => x.Name == d.Name))
                    Fail($"derive: name '{d.Name}' is used twice");
                if (runs.FirstOrDefault(r => r.Name == d.Model) is not { Teacher: null })
                    Fail($"derive '{d.Name}': model '{d.Model}' is not a trained run of this experiment");
                if (d.Condense is not null && d.From != "labelled" && !steps.Any(x => x.Name == d.From))
                    Fail($"derive '{d.Name}': from '{d.From}' is neither 'labelled' nor an earlier derive entry");
                steps.Add(d);
            }
        else if (Root["derive"] is not null)
            Fail("key 'derive' must be a list");
        for (int i = 0; i < runs.Count; i++)
            foreach (var name in DeriveReferences(runs[i]))
            {
                var d =
                    steps.FirstOrDefault(x => x.Name == name)
                    ?? throw Error($"run '{runs[i].Name}': '#{name}' is not a derive entry");
                for (
                    var cur = d;
                    cur is not null;
                    cur =
                            cur.Condense is not null && cur.From != "labelled"
                                ? steps.First(x => x.Name == cur.From)
                                : null
                )
                {
                    int model = runs.ToList().FindIndex(r => r.Name == cur.Model);
                    if (model >= i)
                        Fail(
                            $"run '{runs[i].Name}' reads '#{cur.Name}', derived from run '{cur.Model}' listed after it"
                        );
                }
            }
        return steps;
    }

    /// <summary>The names of the derived sets a run's <c>set</c> values name (<c>#name</c>, also inside
    /// lists).</summary>
    public static IEnumerable<string> DeriveReferences(PlanRun r)
    {
        IEnumerable<string> Of(JsonNode? v) =>
            v switch
            {
                JsonArray a => a.SelectMany(Of),
                JsonValue jv when jv.TryGetValue<string>(out var s) && s.Length > 1 && s[0] == '#' => [s[1..]],
                _ => [],
            };
        return r.Set.SelectMany(kv => Of(kv.Value)).Distinct();
    }

    public List<(string Method, string Reference)> Convergence(IReadOnlyList<PlanRun> runs)
    {
        var convergence = new List<(string, string)>();
        if (Root["convergence"] is null)
            return convergence;
        if (Root["convergence"] is not JsonObject conv)
            throw Error("key 'convergence' must be an object { \"method\": \"reference run\" }");
        foreach (var (k, v) in conv)
        {
            string reference =
                v is JsonValue cv && cv.TryGetValue<string>(out var rs)
                    ? rs
                    : throw Error($"convergence.{k} must name a run");
            foreach (var n in new[] { k, reference })
                if (!runs.Any(r => r.Name == n && r.Teacher is null))
                    Fail($"convergence: '{n}' is not one of the trained runs");
            convergence.Add((k, reference));
        }
        return convergence;
    }
}
