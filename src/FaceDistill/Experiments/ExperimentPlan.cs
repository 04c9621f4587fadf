using System.Text.Json;
using System.Text.Json.Nodes;
using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Evaluation;
using FaceDistill.Runs;

namespace FaceDistill.Experiments;

/// <summary>An experiment: runs that differ in one axis (method), each with several seeds, evaluated identically on
/// one or more views, compared with paired tests against the declared baseline. A plain-data file:
/// <code>
/// { "name": "occlusion-synthetic", "description": "one line", "budget": "about 5 min on 2 CPU cores",
///   "base": { ...a run config... },
///   "presets": { "distilled": { "set": { "train.init": "@teacher", "distill.teacher": "@teacher" } } },
///   "seeds": [1, 2], "views": ["clean", "occluded:vr"], "baseline": "finetune",
///   "runs": [ { "name": "teacher", "reference": true, "set": { "data.view": "clean" } },
///             { "name": "finetune", "set": { "train.init": "@teacher" } },
///             { "name": "kd", "from": "distilled", "set": { "distill.method": "kd" } },
///             { "name": "kd-t2", "from": "kd", "set": { "distill.temperature": 2 } } ],
///   "combine": [ { "name": "kd+triplet", "of": ["kd", "triplet"] } ],
///   "prepare": [ { "align": "../shared/datasets/lfw/lfw", "out": "runs/aligned/lfw", "detector": "ssd",
///                  "fallbackBox": 0.45, "pad": 0 } ] }
/// </code>
/// <c>@run</c> in a value is that run's directory (for the same seed; a reference run's single directory). A run's
/// keys are those of its <c>from</c> (a preset, or an earlier trained run) then its own <c>set</c>; a preset may start
/// <c>from</c> an earlier preset. Findings, narrative and measured timings belong on the plan's results page, not in
/// its description.</summary>
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
    /// method's validation metric reaches the reference's final value (<see
    /// cref="Experiments.Convergence"/>).</summary>
    public IReadOnlyList<(string Method, string Reference)> Convergence { get; init; } = [];

    /// <summary>Data preparation run before the first training run (aligned copies of real datasets).</summary>
    public IReadOnlyList<AlignStep> Prepare { get; init; } = [];

    /// <summary>Training sets derived from runs (mined, condensed), built per seed before the first run that reads
    /// them.</summary>
    public IReadOnlyList<DeriveStep> Derive { get; init; } = [];

    /// <summary>Cross-dataset test sets (name → class-folder dataset), each a column of the table: every run's model
    /// and every teacher row on those images as they are.</summary>
    public IReadOnlyList<(string Name, string Folder)> CrossTests { get; init; } = [];

    /// <summary>Evaluation views; empty = the base config's own (eval.view, else data.view).</summary>
    public IReadOnlyList<string> Views { get; init; } = [];
    public required string Source { get; init; }

    public static readonly string[] Keys =
    [
        "name",
        "description",
        "budget",
        "base",
        "seeds",
        "views",
        "baseline",
        "runs",
        "combine",
        "prepare",
        "convergence",
        "derive",
        "crossTests",
        "presets",
    ];

    /// <summary>True when the file is an experiment (it has <c>runs</c>) rather than a single run's config.</summary>
    public static bool IsPlan(string path)
    {
        if (!File.Exists(path) || Path.GetExtension(path).ToLowerInvariant() != ".json")
            return false;
        try
        {
            return ConfigLoader.ParseJson(File.ReadAllText(path), path) is JsonObject o && o.ContainsKey("runs");
        }
        catch (FaceDistillException)
        {
            return false; // read as a run config, which reports the same one-line error
        }
    }

    public static ExperimentPlan Load(string path, IEnumerable<string>? baseOverrides = null)
    {
        var reader = PlanReader.Open(path);
        var root = reader.Root;
        foreach (var (k, _) in root)
            if (!Keys.Contains(k))
                reader.Fail($"unknown key '{k}' (expected {string.Join(", ", Keys)})");
        var name = reader.Str(root, "name");
        if (
            name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0
            || name is "." or ".."
            || name.Any(char.IsControl)
            || name.Length > 100
        )
            reader.Fail($"name '{name}' is not usable as a directory name");
        var baseObj = (JsonObject)
            (
                root["base"] as JsonObject ?? throw reader.Error("key 'base' must be an object (a run config)")
            ).DeepClone();
        foreach (var o in baseOverrides ?? [])
            ConfigLoader.ApplyOverride(baseObj, o, path);
        var runs = reader.Runs();
        var baseline = reader.Str(root, "baseline");
        // a table of teachers alone (every run a teacher row) takes one of them as its baseline
        bool teachersOnly = runs.All(r => r.Teacher is not null);
        if (!runs.Any(r => r.Name == baseline && (!r.Reference || teachersOnly)))
            reader.Fail($"baseline '{baseline}' is not one of the (non-reference) runs");
        PlanReader.CheckBaselines(reader, runs);
        var plan = new ExperimentPlan
        {
            Name = name,
            Description = reader.Str(root, "description", ""),
            Budget = reader.Str(root, "budget", ""),
            Base = baseObj,
            Seeds = reader.Seeds(),
            Baseline = baseline,
            Runs = runs,
            Combine = reader.Combinations(runs),
            Views = reader.Views(),
            Source = path,
            Prepare = reader.Prepare(),
            Convergence = reader.Convergence(runs),
            Derive = reader.Derive(runs),
            CrossTests = reader.CrossTests(),
        };
        // every run's config must be valid before anything trains (other runs' directories are checked when they exist)
        var tasks = runs.Select(r =>
                plan.Config(
                    r,
                    plan.Seeds[0],
                    Path.Combine(Path.GetTempPath(), "facedistill-plan-check"),
                    checkFiles: false
                ).Task
            )
            .ToList();
        if (
            tasks.Any(t => t != Data.FaceTask.Recognition)
            && plan.Views.FirstOrDefault(v => ViewColumn.Parse(v).OneSide is not null) is { } sided
        )
            reader.Fail($"views: '{sided}': the sides of a pair (@one, @both) apply to verification only");
        return plan;
    }

    /// <summary>The rows <c>--only</c> asked for, or null for the whole plan.</summary>
    public IReadOnlyList<string>? Subset { get; init; }

    /// <summary>The plan restricted to the named runs (<c>--only</c>) and what they need: the baseline, the runs
    /// their <c>@run</c> values name, the model runs of the derived sets they read, recursively; combinations and
    /// convergence pairs whose runs all remain. A combination's name keeps the runs it combines. An unknown name is an
    /// error naming it.</summary>
    public ExperimentPlan Only(IReadOnlyList<string> names)
    {
        foreach (var n in names)
            if (Runs.All(r => r.Name != n) && Combine.All(c => c.Name != n))
                throw FaceDistillException.ForFile(
                    Source,
                    $"--only: '{n}' is not a run of the plan ("
                        + string.Join(", ", Runs.Select(r => r.Name).Concat(Combine.Select(c => c.Name)))
                        + ")"
                );
        var keep = new HashSet<string>(names.SelectMany(n => Combine.FirstOrDefault(c => c.Name == n)?.Of ?? [n]))
        {
            Baseline,
        };
        var todo = new Queue<string>(keep);
        while (todo.TryDequeue(out var name))
        {
            var r = Run(name);
            var needs = DerivedFor(r)
                .Select(d => d.Model)
                .Concat(r.Set.SelectMany(kv => RunRefs(kv.Value)))
                .Concat(r.Teacher is { Length: > 1 } t && t[0] == '@' ? [t[1..]] : [])
                .Concat(r.Against is { } against ? [against] : [])
                .Where(n => Runs.Any(x => x.Name == n));
            foreach (var n in needs)
                if (keep.Add(n))
                    todo.Enqueue(n);
        }
        return new ExperimentPlan
        {
            Name = Name,
            Description = Description,
            Budget = Budget,
            Base = Base,
            Seeds = Seeds,
            Baseline = Baseline,
            Runs = Runs.Where(r => keep.Contains(r.Name)).ToList(),
            Combine = Combine.Where(c => c.Of.All(keep.Contains)).ToList(),
            Views = Views,
            Source = Source,
            Prepare = Prepare,
            Convergence = Convergence.Where(c => keep.Contains(c.Method) && keep.Contains(c.Reference)).ToList(),
            Derive = Derive,
            CrossTests = CrossTests,
            Subset = names,
        };
    }

    private static IEnumerable<string> RunRefs(JsonNode? v) =>
        v switch
        {
            JsonArray a => a.SelectMany(RunRefs),
            JsonValue jv when jv.TryGetValue<string>(out var s) && s.Length > 1 && s[0] == '@' => [s[1..]],
            _ => [],
        };

    /// <summary>The same plan with other seeds (e.g. <c>--seeds 1</c> for a quick pass).</summary>
    public ExperimentPlan WithSeeds(int[] seeds)
    {
        if (seeds.Length == 0 || seeds.Distinct().Count() != seeds.Length)
            throw FaceDistillException.ForFile(Source, "seeds: at least one, each once");
        return new ExperimentPlan
        {
            Name = Name,
            Description = Description,
            Budget = Budget,
            Base = Base,
            Seeds = seeds,
            Baseline = Baseline,
            Runs = Runs,
            Combine = Combine,
            Views = Views,
            Source = Source,
            Prepare = Prepare,
            Convergence = Convergence,
            Derive = Derive,
            CrossTests = CrossTests,
            Subset = Subset,
        };
    }

    public DeriveStep DeriveStep(string name) =>
        Derive.FirstOrDefault(d => d.Name == name)
        ?? throw FaceDistillException.ForFile(
            Source,
            $"'#{name}' names no derive step of the plan ({string.Join(", ", Derive.Select(d => d.Name))})"
        );

    /// <summary>The folder of a derived set for <paramref name="seed"/>.</summary>
    public string DerivedDirectory(string runsRoot, DeriveStep d, int seed) =>
        System.IO.Path.Combine(runsRoot, Name, "derived", $"{d.Name}-s{seed}");

    /// <summary>The derived sets a run reads (its <c>#name</c> values), with the sets they are built from, in build
    /// order.</summary>
    public IReadOnlyList<DeriveStep> DerivedFor(PlanRun r)
    {
        var order = new List<DeriveStep>();
        void Add(DeriveStep d)
        {
            if (d.Condense is not null && d.From != "labelled")
                Add(DeriveStep(d.From));
            if (!order.Contains(d))
                order.Add(d);
        }
        foreach (var name in PlanReader.DeriveReferences(r))
            Add(DeriveStep(name));
        return order;
    }

    public string RunName(PlanRun r, int seed) => r.Reference ? r.Name : $"{r.Name}-s{seed}";

    public PlanRun Run(string name) =>
        Runs.FirstOrDefault(r => r.Name == name)
        ?? throw FaceDistillException.ForFile(
            Source,
            $"'@{name}' names no run of the plan ({string.Join(", ", Runs.Select(r => r.Name))})"
        );

    /// <summary>The run a method's p-values are computed against: its own <see cref="PlanRun.Against"/> or
    /// <see cref="PlanCombination.Against"/>, else the experiment's baseline.</summary>
    public string BaselineOf(string method) =>
        Runs.FirstOrDefault(r => r.Name == method)?.Against
        ?? Combine.FirstOrDefault(c => c.Name == method)?.Against
        ?? Baseline;

    /// <summary>The directory of a run of this experiment under <paramref name="runsRoot"/>.</summary>
    public string RunDirectory(string runsRoot, PlanRun r, int seed) =>
        System.IO.Path.Combine(runsRoot, Name, RunName(r, seed));

    /// <summary>The config of run <paramref name="r"/> for <paramref name="seed"/>: the base, then train.seed and the
    /// run's keys, <c>@run</c> references resolved to run directories.</summary> <param name="checkFiles">false:
    /// directories of other runs (<c>@run</c>) are accepted though they do not exist yet.</param>
    public ResolvedRun Config(PlanRun r, int seed, string runsRoot, bool checkFiles = true)
    {
        var node = (JsonObject)Base.DeepClone();
        node["name"] = RunName(r, seed);
        ConfigLoader.ApplyOverride(node, $"train.seed={seed}", Source);
        var refs = new List<string>();
        JsonNode? Resolve(JsonNode? v)
        {
            if (v is JsonArray arr)
                return new JsonArray(arr.Select(e => Resolve(e?.DeepClone())).ToArray());
            if (v is not JsonValue jv || !jv.TryGetValue<string>(out var s) || s.Length < 2)
                return v;
            string? target =
                s[0] == '@' ? RunDirectory(runsRoot, Run(s[1..]), seed)
                : s[0] == '#' ? DerivedDirectory(runsRoot, DeriveStep(s[1..]), seed)
                : null;
            if (target is null)
                return v;
            refs.Add(Path.GetFullPath(target));
            return JsonValue.Create(target);
        }
        foreach (var (key, value) in r.Set)
        {
            var v = Resolve(value?.DeepClone());
            ConfigLoader.ApplyOverride(
                node,
                $"{key}={(v is null ? "null" : v.ToJsonString())}",
                $"{Source} (run {r.Name})"
            );
        }
        bool Planned(string p)
        {
            if (Prepare.Any(a => !a.Done && a.Creates(p)))
                return true;
            var full = Path.GetFullPath(p);
            return !checkFiles
                && refs.Any(d =>
                    full == d || full.StartsWith(d + Path.DirectorySeparatorChar, StringComparison.Ordinal)
                );
        }
        return RunConfig.FromNode(node, $"{Source} (run {r.Name})", Planned);
    }
}
