using System.Text.Json;
using System.Text.Json.Nodes;
using FaceDistill.Config;
using FaceDistill.Core;

namespace FaceDistill.Distillation;

/// <summary>
/// The registry of distillation methods (<c>distill.method</c>). Adding a method is one new file — its loss, its term
/// and its <see cref="DistillMethod"/> entry — and one line in <see cref="Builtin"/>; nothing else names it.
/// </summary>
public static class DistillationMethods
{
    /// <summary>The value of <c>distill.method</c> that distils nothing.</summary>
    public const string None = "none";

    public static readonly Registry<DistillMethod> Builtin = new(
        "distillation method",
        [
            TeacherStudentKd.Method,
            DecoupledKd.Method,
            GroupedKd.Method,
            FeatureDistillation.Method,
            TripletDistillation.Method,
            DistributionDistillationLoss.Method,
            LabelFreeDistillation.Method,
        ]
    );

    private static readonly AsyncLocal<Registry<DistillMethod>?> Override = new();

    /// <summary>The methods in effect: <see cref="Builtin"/>, or the registry of an enclosing <see
    /// cref="Use"/>.</summary>
    public static Registry<DistillMethod> Registry => Override.Value ?? Builtin;

    /// <summary>Runs the code of the returned scope with <paramref name="registry"/> in effect (for plug-ins and
    /// tests); the scope follows the logical flow of the calling code only.</summary>
    public static IDisposable Use(Registry<DistillMethod> registry)
    {
        var previous = Override.Value;
        Override.Value = registry;
        return new Restore(() => Override.Value = previous);
    }

    /// <summary>Every accepted value of <c>distill.method</c>.</summary>
    public static IReadOnlyList<string> Names => [None, .. Registry.Names];

    /// <summary>Keys every method accepts (cacheDir is a location, not a setting: an experiment may set it for all its
    /// runs).</summary>
    public static readonly IReadOnlyList<string> CommonKeys = ["method", "weight", "cacheDir"];

    /// <summary>Keys of every method with a teacher, with their defaults (stated once).</summary>
    public static readonly IReadOnlyDictionary<string, object?> TeacherKeys = new Dictionary<string, object?>
    {
        ["teacher"] = null,
        ["lambda"] = null,
        ["cache"] = false,
        ["cacheDir"] = "runs/.teacher-cache",
        ["teacherSize"] = null,
    };

    public static DistillMethod? Find(string name) => name == None ? null : Registry.Find(name);

    /// <summary>The defaults declared for <c>distill.&lt;key&gt;</c> by the teacher keys and any built-in
    /// method.</summary>
    public static IEnumerable<JsonNode> Defaults(string key) =>
        Builtin
            .Entries.SelectMany(m => m.Keys)
            .Where(k => k.Name == key)
            .Select(k => k.DefaultValue)
            .Append(TeacherKeys.GetValueOrDefault(key))
            .Where(v => v is not null)
            .Select(v => JsonSerializer.SerializeToNode(v)!);

    /// <summary>
    /// The <c>distill</c> section with the chosen method's defaults filled in. A key the method does not read is an
    /// error naming it (so no default of one method silently reaches another).
    /// </summary>
    public static DistillConfig Resolve(DistillConfig d, ConfigChecks checks)
    {
        checks.OneOf("distill.method", d.Method, Names);
        var method = Find(d.Method.ToLowerInvariant());
        var keys = new Dictionary<string, object?>();
        var declared = new Dictionary<string, MethodKey>();
        if (method is not null)
        {
            if (method.NeedsTeacher)
                foreach (var (k, v) in TeacherKeys)
                    keys[k] = v;
            foreach (var k in method.Keys)
                (keys[k.Name], declared[k.Name]) = (k.DefaultValue, k);
        }
        var node = (JsonObject)JsonSerializer.SerializeToNode(d, ConfigLoader.Json)!;
        foreach (var (key, _) in node.ToList())
            if (!CommonKeys.Contains(key) && !keys.ContainsKey(key))
                checks.Fail(
                    $"distill.{key}",
                    $"is not read by distill.method '{d.Method}'"
                        + (keys.Count > 0 ? $" (its keys: {string.Join(", ", keys.Keys)})" : "")
                );
        foreach (var (name, key) in declared)
            if (node[name] is JsonValue given && !Fits(key, given))
                checks.Fail(key.Path, $"must be {key.Kind}, found {given.ToJsonString()}");
        if (method is not null)
            foreach (var (key, need) in method.Needs)
                if (
                    node[key] is JsonValue given
                    && !JsonNode.DeepEquals(given, JsonSerializer.SerializeToNode(keys[key]))
                    && node[need] is null
                )
                    checks.Fail($"distill.{key}", $"is read only with distill.{need}: set it, or leave this key out");
        node["method"] = d.Method.ToLowerInvariant();
        foreach (var (key, value) in keys)
            if (node[key] is null && value is not null)
                node[key] = JsonSerializer.SerializeToNode(value);
        return node.Deserialize<DistillConfig>(ConfigLoader.Json)!;
    }

    /// <summary>True when a given value has the kind its key declares (an integer key: a whole number).</summary>
    private static bool Fits(MethodKey key, JsonValue v) =>
        key switch
        {
            TextKey => v.GetValueKind() == JsonValueKind.String,
            IntegerKey => v.GetValueKind() == JsonValueKind.Number
                && v.TryGetValue<double>(out var x)
                && x == Math.Floor(x)
                && Math.Abs(x) <= int.MaxValue,
            _ => v.GetValueKind() == JsonValueKind.Number,
        };

    /// <summary>Checks of a resolved config's <c>distill</c> section: the shared keys, then the method's own.</summary>
    public static void Validate(RunSettings c, ConfigChecks checks)
    {
        var d = c.Distill;
        var method = Find(d.Method);
        if (method is null)
            return;
        checks.NonNegative("distill.weight", d.Weight);
        if (method.NeedsTeacher)
        {
            if (string.IsNullOrWhiteSpace(d.Teacher))
                checks.Fail("distill.teacher", $"is required for distill.method '{d.Method}'");
            if (d.Lambda is { } lambda)
                checks.Fraction("distill.lambda", lambda, allowZero: true);
            if (d.TeacherSize is { } size)
            {
                checks.InRange("distill.teacherSize", size, 16, 1024);
                if (d.Cache != true)
                    checks.Fail(
                        "distill.teacherSize",
                        "needs distill.cache: true (an online teacher sees the student's own batch)"
                    );
            }
        }
        method.Validate(c, checks);
    }

    /// <summary>The objective of a resolved <c>distill</c> section and its <paramref name="method"/> (null: none):
    /// the task loss plus the method's term. With Georgescu et al.'s <c>distill.lambda</c> = λ the task loss weighs
    /// 1 − λ and the term λ (<see cref="TeacherStudentKd"/>).</summary>
    public static Objective CreateObjective(
        DistillMethod? method,
        DistillConfig d,
        TermContext context,
        string studentView
    )
    {
        if (method is null)
            return new Objective([]) { StudentView = studentView };
        var term = method.Create(d.Lambda is { } l ? d with { Weight = l } : d, context);
        return new Objective([term])
        {
            StudentView = studentView,
            TaskWeight = d.Lambda is { } lambda ? 1 - lambda : 1,
        };
    }

    private sealed class Restore(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }
}
