using System.Text.Json;
using System.Text.Json.Nodes;
using FaceDistill.Core;

namespace FaceDistill.Config;

/// <summary>One run of an experiment: a name and the keys it sets on the base config. A reference run (e.g. the teacher
/// trained on full faces) runs once, with the first seed, and is reported without a p-value. A run with a
/// <see cref="Teacher"/> (e.g. <c>zoo:recognition</c>) trains nothing: that teacher's embeddings are evaluated as a
/// reference row, on the images the students' teacher sees. <see cref="Against"/> names the run its p-values are computed
/// against when that is not the experiment's baseline (e.g. a distilled MobileFaceNet against MobileFaceNet alone, in a
/// table whose baseline is another student).</summary>
public sealed record PlanRun(string Name, IReadOnlyList<(string Key, JsonNode? Value)> Set, bool Reference, string? Teacher = null, string? Against = null);

/// <summary>Georgescu et al.'s combination: the embeddings of these runs (same seed) concatenated, a linear model on top.</summary>
public sealed record PlanCombination(string Name, IReadOnlyList<string> Of);

/// <summary>A data-preparation step of an experiment: <c>facedistill align</c> of <see cref="Input"/> into <see cref="Out"/>
/// (ArcFace-aligned crops + landmarks.csv), run once before the first training run and skipped when <c>Out</c> already
/// holds its landmarks.csv.</summary>
public sealed record AlignStep(string Input, string Out, string? Landmarks, int Size, string Detector, double MinScore, double FallbackBox)
{
    public bool Done => File.Exists(System.IO.Path.Combine(Out, "landmarks.csv"));

    /// <summary>True for paths inside <see cref="Out"/> (which the step creates).</summary>
    public bool Creates(string path)
    {
        var o = System.IO.Path.GetFullPath(Out).TrimEnd('/', '\\');
        var p = System.IO.Path.GetFullPath(path).TrimEnd('/', '\\');
        return p == o || p.StartsWith(o + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }
}

/// <summary>
/// An experiment (DESIGN.md): runs that differ in one axis (method), each with several seeds, evaluated identically on
/// one or more views, compared with paired tests against the declared baseline. A plain-data file:
/// <code>
/// { "name": "occlusion-synthetic", "description": "...", "budget": "about 5 min on 2 CPU cores",
///   "base": { ...a run config... },
///   "seeds": [1, 2], "views": ["clean", "occluded:vr"], "baseline": "finetune",
///   "runs": [ { "name": "teacher", "reference": true, "set": { "data.view": "clean" } },
///             { "name": "finetune", "set": { "train.init": "@teacher" } },
///             { "name": "kd", "set": { "train.init": "@teacher", "distill.method": "kd", "distill.teacher": "@teacher" } } ],
///   "combine": [ { "name": "kd+triplet", "of": ["kd", "triplet"] } ],
///   "prepare": [ { "align": "../shared/datasets/lfw/lfw", "out": "runs/aligned/lfw", "detector": "ssd", "fallbackBox": 0.45 } ] }
/// </code>
/// <c>@run</c> in a value is that run's directory (for the same seed; a reference run's single directory).
/// </summary>
public sealed class ExperimentPlan
{
    public required string Name { get; init; }
    public string Description { get; init; } = "";
    public string Budget { get; init; } = "";
    public required JsonObject Base { get; init; }
    public required int[] Seeds { get; init; }
    public required string Baseline { get; init; }
    public required IReadOnlyList<PlanRun> Runs { get; init; }
    public IReadOnlyList<PlanCombination> Combine { get; init; } = [];
    /// <summary>Convergence comparisons, method → its reference (e.g. MultiFace → the single-head run): steps until the
    /// method's validation metric reaches the reference's final value (<see cref="Reporting.Convergence"/>).</summary>
    public IReadOnlyList<(string Method, string Reference)> Convergence { get; init; } = [];
    /// <summary>Data preparation run before the first training run (aligned copies of real datasets).</summary>
    public IReadOnlyList<AlignStep> Prepare { get; init; } = [];
    /// <summary>Evaluation views; empty = the base config's own (eval.view, else data.view).</summary>
    public IReadOnlyList<string> Views { get; init; } = [];
    public required string Source { get; init; }

    private static readonly string[] Keys = ["name", "description", "budget", "base", "seeds", "views", "baseline", "runs", "combine", "prepare", "convergence"];
    private static readonly string[] AlignKeys = ["align", "out", "landmarks", "size", "detector", "minScore", "fallbackBox"];

    /// <summary>True when the file is an experiment (it has <c>runs</c>) rather than a single run's config.</summary>
    public static bool IsPlan(string path)
    {
        if (!File.Exists(path) || Path.GetExtension(path).ToLowerInvariant() != ".json") return false;
        try { return JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) is JsonObject o && o.ContainsKey("runs"); }
        catch (JsonException) { return false; }
    }

    public static ExperimentPlan Load(string path, IEnumerable<string>? baseOverrides = null)
    {
        if (!File.Exists(path)) throw FaceDistillException.ForFile(path, "experiment file not found");
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) as JsonObject
                ?? throw FaceDistillException.ForFile(path, "the experiment must be an object at the top level");
        }
        catch (JsonException e) { throw FaceDistillException.ForFile(path, $"malformed JSON at line {e.LineNumber + 1}: {e.Message.Split(". ")[0]}"); }
        void Fail(string problem) => throw FaceDistillException.ForFile(path, problem);
        foreach (var (k, _) in root) if (!Keys.Contains(k)) Fail($"unknown key '{k}' (expected {string.Join(", ", Keys)})");
        string Str(JsonObject o, string key, string? fallback = null)
        {
            if (o[key] is null) return fallback ?? throw FaceDistillException.ForFile(path, $"key '{key}' is required");
            try { return o[key]!.GetValue<string>(); }
            catch (Exception e) when (e is InvalidOperationException or FormatException) { throw FaceDistillException.ForFile(path, $"key '{key}' must be a string"); }
        }
        var name = Str(root, "name");
        if (name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name is "." or "..") Fail($"name '{name}' is not usable as a directory name");
        var baseObj = root["base"] as JsonObject ?? throw FaceDistillException.ForFile(path, "key 'base' must be an object (a run config)");
        baseObj = (JsonObject)baseObj.DeepClone();
        foreach (var o in baseOverrides ?? []) ConfigLoader.ApplyOverride(baseObj, o, path);
        int[] seeds;
        try { seeds = root["seeds"]?.Deserialize<int[]>() ?? [1]; }
        catch (JsonException) { throw FaceDistillException.ForFile(path, "key 'seeds' must be a list of integers"); }
        if (seeds.Length == 0 || seeds.Distinct().Count() != seeds.Length) Fail("key 'seeds' must list at least one seed, each once");
        string[] views;
        try { views = root["views"]?.Deserialize<string[]>() ?? []; }
        catch (JsonException) { throw FaceDistillException.ForFile(path, "key 'views' must be a list of view names"); }
        foreach (var v in views)
        {
            try { Data.FaceView.Parse(v); }
            catch (FaceDistillException e) { Fail($"views: {e.Message}"); }
        }
        if (root["runs"] is not JsonArray runsArr || runsArr.Count == 0) throw FaceDistillException.ForFile(path, "key 'runs' must be a non-empty list");
        var runs = new List<PlanRun>();
        foreach (var node in runsArr)
        {
            if (node is not JsonObject r) throw FaceDistillException.ForFile(path, "every entry of 'runs' must be an object");
            foreach (var (k, _) in r) if (k is not ("name" or "set" or "reference" or "teacher" or "baseline")) Fail($"runs: unknown key '{k}' (expected name, set, reference, teacher, baseline)");
            var rn = Str(r, "name");
            if (runs.Any(x => x.Name == rn)) Fail($"runs: '{rn}' appears twice");
            var set = new List<(string, JsonNode?)>();
            if (r["set"] is JsonObject s)
                foreach (var (k, v) in s)
                {
                    if (v is JsonValue jv && jv.TryGetValue<string>(out var str) && str.StartsWith('@') && !runs.Any(x => x.Name == str[1..]))
                        Fail($"runs.{rn}.set.{k}: '{str}' does not name an earlier run");
                    set.Add((k, v?.DeepClone()));
                }
            else if (r["set"] is not null) Fail($"runs.{rn}.set must be an object of config keys");
            bool reference = r["reference"] is JsonValue refv && refv.TryGetValue<bool>(out var b) && b;
            string? teacher = r["teacher"] is null ? null : Str(r, "teacher");
            if (teacher is not null)
            {
                if (set.Count > 0) Fail($"runs.{rn}: a teacher row evaluates '{teacher}' as it is and takes no 'set'");
                if (!teacher.StartsWith("zoo:", StringComparison.Ordinal) && !teacher.StartsWith("onnx:", StringComparison.Ordinal))
                    Fail($"runs.{rn}.teacher: '{teacher}' must be zoo:<net> or onnx:<model> (a trained teacher is a reference run)");
                reference = true;
            }
            string? against = r["baseline"] is null ? null : Str(r, "baseline");
            if (against is not null && reference) Fail($"runs.{rn}.baseline: a reference run has no p-value, so no baseline");
            runs.Add(new PlanRun(rn, set, reference, teacher, against));
        }
        var baseline = Str(root, "baseline");
        if (!runs.Any(r => r.Name == baseline && !r.Reference)) Fail($"baseline '{baseline}' is not one of the (non-reference) runs");
        foreach (var r in runs.Where(r => r.Against is not null))
        {
            if (r.Against == r.Name) Fail($"runs.{r.Name}.baseline: a run cannot be its own baseline");
            if (!runs.Any(x => x.Name == r.Against && !x.Reference)) Fail($"runs.{r.Name}.baseline: '{r.Against}' is not one of the (non-reference) runs");
        }
        var combine = new List<PlanCombination>();
        if (root["combine"] is JsonArray comb)
            foreach (var node in comb)
            {
                if (node is not JsonObject c) throw FaceDistillException.ForFile(path, "every entry of 'combine' must be an object");
                var of = c["of"]?.Deserialize<string[]>() ?? [];
                var cn = Str(c, "name");
                if (of.Length < 2) Fail($"combine.{cn}: 'of' must name at least two runs");
                foreach (var o in of)
                    if (!runs.Any(r => r.Name == o && !r.Reference)) Fail($"combine.{cn}: '{o}' is not one of the (non-reference) runs");
                combine.Add(new PlanCombination(cn, of));
            }
        var prepare = new List<AlignStep>();
        if (root["prepare"] is JsonArray prep)
            foreach (var node in prep)
            {
                if (node is not JsonObject a || a["align"] is null) throw FaceDistillException.ForFile(path, "every entry of 'prepare' must be an object { \"align\": <folder>, \"out\": <folder>, … }");
                foreach (var (k, _) in a) if (!AlignKeys.Contains(k)) Fail($"prepare: unknown key '{k}' (expected {string.Join(", ", AlignKeys)})");
                double Num(string key, double fallback)
                {
                    if (a[key] is null) return fallback;
                    try { return a[key]!.GetValue<double>(); }
                    catch (Exception e) when (e is InvalidOperationException or FormatException) { throw FaceDistillException.ForFile(path, $"prepare: '{key}' must be a number"); }
                }
                var step = new AlignStep(Str(a, "align"), Str(a, "out"), a["landmarks"] is null ? null : Str(a, "landmarks"), (int)Num("size", 112),
                    Str(a, "detector", "ssd"), Num("minScore", 0.5), Num("fallbackBox", 0));
                if (!Directory.Exists(step.Input)) throw FaceDistillException.ForFile(step.Input, "folder to align not found (prepare)");
                if (step.Landmarks is not null && !File.Exists(step.Landmarks)) throw FaceDistillException.ForFile(step.Landmarks, "landmarks file not found (prepare)");
                if (step.Detector is not ("ssd" or "tiny")) Fail($"prepare: detector '{step.Detector}' is not one of ssd, tiny");
                if (step.Size < 16 || step.FallbackBox is < 0 or > 1 || step.MinScore is < 0 or > 1) Fail("prepare: size must be ≥ 16, fallbackBox and minScore in [0, 1]");
                prepare.Add(step);
            }
        var convergence = new List<(string, string)>();
        if (root["convergence"] is JsonObject conv)
            foreach (var (k, v) in conv)
            {
                string reference = v is JsonValue cv && cv.TryGetValue<string>(out var rs) ? rs : throw FaceDistillException.ForFile(path, $"convergence.{k} must name a run");
                foreach (var n in new[] { k, reference })
                    if (!runs.Any(r => r.Name == n && r.Teacher is null)) Fail($"convergence: '{n}' is not one of the trained runs");
                convergence.Add((k, reference));
            }
        else if (root["convergence"] is not null) Fail("key 'convergence' must be an object { \"method\": \"reference run\" }");
        var plan = new ExperimentPlan
        {
            Name = name, Description = Str(root, "description", ""), Budget = Str(root, "budget", ""), Base = baseObj, Seeds = seeds,
            Baseline = baseline, Runs = runs, Combine = combine, Views = views, Source = path, Prepare = prepare, Convergence = convergence,
        };
        // every run's config must be valid before anything trains (teacher directories cannot exist yet: checked later)
        foreach (var r in runs) plan.Config(r, seeds[0], Path.Combine(Path.GetTempPath(), "facedistill-plan-check"), checkFiles: false);
        return plan;
    }

    /// <summary>The same plan with other seeds (e.g. <c>--seeds 1</c> for a quick pass).</summary>
    public ExperimentPlan WithSeeds(int[] seeds)
    {
        if (seeds.Length == 0 || seeds.Distinct().Count() != seeds.Length) throw FaceDistillException.ForFile(Source, "seeds: at least one, each once");
        return new ExperimentPlan
        {
            Name = Name, Description = Description, Budget = Budget, Base = Base, Seeds = seeds, Baseline = Baseline, Runs = Runs,
            Combine = Combine, Views = Views, Source = Source, Prepare = Prepare, Convergence = Convergence,
        };
    }

    public string RunName(PlanRun r, int seed) => r.Reference ? r.Name : $"{r.Name}-s{seed}";

    public PlanRun Run(string name) => Runs.First(r => r.Name == name);

    /// <summary>The run a method's p-values are computed against: its own <see cref="PlanRun.Against"/>, else the
    /// experiment's baseline (also for combinations).</summary>
    public string BaselineOf(string method) => Runs.FirstOrDefault(r => r.Name == method)?.Against ?? Baseline;

    /// <summary>The directory of a run of this experiment under <paramref name="runsRoot"/>.</summary>
    public string RunDirectory(string runsRoot, PlanRun r, int seed) => System.IO.Path.Combine(runsRoot, Name, RunName(r, seed));

    /// <summary>The config of run <paramref name="r"/> for <paramref name="seed"/>: the base, then train.seed and the run's
    /// keys, <c>@run</c> references resolved to run directories.</summary>
    public ExperimentConfig Config(PlanRun r, int seed, string runsRoot, bool checkFiles = true)
    {
        var node = (JsonObject)Base.DeepClone();
        node["name"] = RunName(r, seed);
        ConfigLoader.ApplyOverride(node, $"train.seed={seed}", Source);
        var refs = new List<string>();
        foreach (var (key, value) in r.Set)
        {
            var v = value?.DeepClone();
            if (v is JsonValue jv && jv.TryGetValue<string>(out var s) && s.StartsWith('@'))
            {
                var target = RunDirectory(runsRoot, Run(s[1..]), seed);
                refs.Add(key);
                v = JsonValue.Create(checkFiles ? target : null);
            }
            ConfigLoader.ApplyOverride(node, $"{key}={(v is null ? "null" : v.ToJsonString())}", $"{Source} (run {r.Name})");
        }
        if (!checkFiles)
        {
            // keys that point at other runs' directories are checked when those runs exist
            foreach (var key in refs) ConfigLoader.ApplyOverride(node, $"{key}=null", Source);
            if (refs.Contains("distill.teacher")) ConfigLoader.ApplyOverride(node, "distill.method=none", Source);
        }
        return ConfigLoader.FromNode(node, $"{Source} (run {r.Name})", p => Prepare.Any(a => !a.Done && a.Creates(p)));
    }
}
