using System.Text;
using System.Text.Json.Nodes;
using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Distillation;
using FaceDistill.Models.Heads;

namespace FaceDistill.Runs;

/// <summary>
/// The key-by-key reference of a run config: each key the checks look at, its default and the rule it must meet.
/// Collected from the checks themselves — <see cref="RunConfig.Resolve(RunSettings, ConfigChecks)"/> with a
/// <see cref="ConfigChecks"/> that records every rule it applies — over the default config with every distillation
/// method, task, teacher kind and head, so the reference (<c>facedistill config keys</c>, docs/config-keys.md) cannot
/// drift from what is enforced.
/// </summary>
public static class ConfigKeys
{
    public sealed record Key(string Name, string Default, string Rule);

    private static readonly string[] TeacherKinds = ["zoo:recognition", "zoo:expression", "zoo:agegender"];

    private static readonly RunSettings Basis = new();

    private static bool MethodKey(string key) =>
        key.StartsWith("distill.", StringComparison.Ordinal) && key is not ("distill.method" or "distill.teacher");

    public static IReadOnlyList<Key> All()
    {
        var rules = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        var defaults = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        void Check(RunSettings c, bool recordDefaults)
        {
            var seen = new List<(string, string)>();
            var checks = new ConfigChecks("(reference)", _ => true) { Rules = (k, r) => seen.Add((k, r)) };
            RunSettings resolved;
            try
            {
                resolved = RunConfig.Resolve(c, checks).Settings;
            }
            catch (FaceDistillException)
            {
                return; // a combination the checks refuse (a method on a task it does not serve): others cover it
            }
            foreach (var (k, r) in seen)
            {
                var list = rules.TryGetValue(k, out var l) ? l : rules[k] = [];
                if (!list.Contains(r))
                    list.Add(r);
            }
            if (!recordDefaults)
                return;
            var json = JsonNode.Parse(ConfigLoader.ToJson(resolved))!;
            // a key's default comes from the first config that checks it (the basis first); distill.* keys collect
            // the default of every method, as they differ by method
            foreach (var (k, _) in seen.Where(kv => !defaults.ContainsKey(kv.Item1) || MethodKey(kv.Item1)))
                (defaults.TryGetValue(k, out var d) ? d : defaults[k] = new(StringComparer.Ordinal)).Add(
                    Value(json, k)
                );
        }
        Check(Basis, recordDefaults: true);
        foreach (var head in Heads.Registry.Names)
        {
            var c = Basis with { Model = Basis.Model with { Head = Basis.Model.Head with { Type = head } } };
            Check(c, recordDefaults: true);
            var margins = c.Model.Head with { M1 = 1, M2 = 0.5, M3 = 0 };
            Check(c with { Model = c.Model with { Head = margins } }, recordDefaults: false);
        }
        foreach (var method in DistillationMethods.Names)
        foreach (var task in RunConfigValidator.Tasks)
        foreach (var teacher in TeacherKinds)
        {
            var c = Basis with
            {
                Task = task,
                Distill = new DistillConfig
                {
                    Method = method,
                    Teacher = DistillationMethods.Find(method)?.NeedsTeacher == true ? teacher : null,
                },
            };
            Check(c, recordDefaults: true);
            Check(
                c with
                {
                    Distill = c.Distill with { Lambda = 0.5, Cache = true, TeacherSize = 112 },
                },
                recordDefaults: false
            );
        }
        return rules
            .Select(kv => new Key(
                kv.Key,
                defaults.TryGetValue(kv.Key, out var d) ? (d.Count == 1 ? d.Min! : "per method") : "unset",
                Rule(kv.Value)
            ))
            .ToList();
    }

    /// <summary>The rules of a key in one phrase: a bracketed range makes a bare sign check redundant.</summary>
    private static string Rule(List<string> rules)
    {
        var kept = rules.Any(r => r.StartsWith('[') || r.StartsWith('('))
            ? rules.Where(r => r is not ("> 0" or ">= 0")).ToList()
            : rules;
        return string.Join("; ", kept);
    }

    private static string Value(JsonNode root, string key)
    {
        JsonNode? node = root;
        foreach (var part in key.Split('.'))
            node = node is JsonObject o ? o[part] : null;
        return node is null ? "unset" : node.ToJsonString();
    }

    /// <summary>The reference as a Markdown table (docs/config-keys.md holds its output).</summary>
    public static string Markdown()
    {
        var sb = new StringBuilder();
        sb.Append("| key | default | rule |\n|---|---|---|\n");
        foreach (var k in All())
            sb.Append($"| `{k.Name}` | {Cell(k.Default)} | {Cell(k.Rule)} |\n");
        return sb.ToString();
    }

    private static string Cell(string s) => s.Replace("|", "\\|");
}
