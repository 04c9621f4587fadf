using System.Reflection;
using System.Reflection.Emit;

namespace FaceDistill.Tests;

/// <summary>
/// The one-way layers of docs/architecture.md, read from the compiled library: every type a namespace's code refers to
/// (signatures, base types, fields, and every type, method and field token in its method bodies) must live in the same
/// layer or one below. Also: no namespace cycles, and the library never touches the console.
/// </summary>
public class ArchitectureTests
{
    /// <summary>The layers bottom to top.</summary>
    private static readonly string[] Order =
    [
        "Core",
        "Graphs",
        "Plots",
        "Config",
        "Data",
        "Faces",
        "Models",
        "Export",
        "Distillation",
        "Evaluation",
        "Training",
        "Omni",
        "Runs",
        "Experiments",
    ];

    /// <summary>Bottom to top, each layer with the layers it may use (docs/architecture.md). Siblings — layers neither
    /// of which lists the other, such as Graphs and Config, Training and Faces, Omni and Runs — never refer to each
    /// other: a layer uses only what it names here.</summary>
    public static readonly (string Layer, string[] Uses)[] Layers =
    [
        ("Core", []),
        ("Graphs", Below("Graphs")),
        ("Plots", Below("Plots", "Graphs")),
        ("Config", Below("Config", "Graphs", "Plots")),
        ("Data", Below("Data", "Graphs")),
        ("Faces", Below("Faces")),
        ("Models", Below("Models")),
        ("Export", Below("Export")),
        ("Distillation", Below("Distillation")),
        ("Evaluation", Below("Evaluation")),
        ("Training", Below("Training", "Graphs", "Faces", "Export")),
        ("Omni", Below("Omni", "Graphs", "Export")),
        ("Runs", Below("Runs", "Omni")),
        ("Experiments", Below("Experiments")),
    ];

    /// <summary>Every layer below <paramref name="layer"/> but its siblings in <paramref name="except"/>.</summary>
    private static string[] Below(string layer, params string[] except) =>
        Order.TakeWhile(l => l != layer).Except(except).ToArray();

    private static string[]? UsesOf(string layer) => Layers.FirstOrDefault(l => l.Layer == layer).Uses;

    private static readonly Assembly Library = typeof(FaceDistill.Core.FaceDistillException).Assembly;

    private static string? LayerOf(string? ns)
    {
        if (ns is null || !ns.StartsWith("FaceDistill.", StringComparison.Ordinal))
            return null;
        return ns.Split('.')[1];
    }

    [Fact]
    public void EveryLibraryNamespaceIsInALayer()
    {
        var unknown = Library
            .GetTypes()
            .Select(t => LayerOf(t.Namespace))
            .Where(l => l is not null && UsesOf(l) is null)
            .Distinct()
            .ToList();
        Assert.True(unknown.Count == 0, $"namespaces outside the layers: {string.Join(", ", unknown)}");
        var global = Library
            .GetTypes()
            .Where(t => t.Namespace is null && !t.FullName!.StartsWith('<'))
            .Select(t => t.FullName)
            .ToList();
        Assert.True(global.Count == 0, $"types outside any namespace: {string.Join(", ", global)}");
    }

    [Fact]
    public void EveryLayerUsesOnlyTheLayersItNames()
    {
        var violations = new SortedSet<string>();
        foreach (var (from, to) in References(Library))
        {
            string? a = LayerOf(from.Namespace),
                b = LayerOf(to.Namespace);
            if (a is null || b is null || a == b || to.Assembly != Library)
                continue;
            if (!UsesOf(a)!.Contains(b))
                violations.Add($"{from.Namespace} ({a}) → {to.FullName} ({b})");
        }
        Assert.True(violations.Count == 0, "references up or sideways:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void TheNamespaceGraphHasNoCycle()
    {
        var edges = References(Library)
            .Where(r =>
                r.To.Assembly == Library
                && r.From.Namespace != r.To.Namespace
                && r.From.Namespace is not null
                && r.To.Namespace is not null
            )
            .Select(r => (r.From.Namespace!, r.To.Namespace!))
            .Distinct()
            .GroupBy(e => e.Item1)
            .ToDictionary(g => g.Key, g => g.Select(e => e.Item2).ToHashSet());
        var cycle = FindCycle(edges);
        Assert.True(cycle is null, $"namespace cycle: {string.Join(" → ", cycle ?? [])}");
    }

    [Fact]
    public void TheLibraryNeverWritesToTheConsole()
    {
        var uses = References(Library)
            .Where(r => r.To == typeof(Console))
            .Select(r => r.From.FullName)
            .Distinct()
            .ToList();
        Assert.True(uses.Count == 0, $"console use in the library: {string.Join(", ", uses)}");
        Assert.DoesNotContain(Library.GetReferencedAssemblies(), a => a.Name == "Spectre.Console");
    }

    [Fact]
    public void TheServerIsALibraryOnTopThatNeverWritesToTheConsoleAndTheCoreNeverReferencesIt()
    {
        var serve = typeof(FaceDistill.Serve.FaceServer).Assembly;
        var uses = References(serve).Where(r => r.To == typeof(Console)).Select(r => r.From.FullName).Distinct();
        Assert.Empty(uses);
        Assert.DoesNotContain(Library.GetReferencedAssemblies(), a => a.Name == serve.GetName().Name);
        Assert.DoesNotContain(Library.GetReferencedAssemblies(), a => a.Name!.StartsWith("Microsoft.AspNetCore"));
    }

    [Fact]
    public void TheCheckSeesReferencesInsideMethodBodies()
    {
        // the check must catch what a 'using' scan misses: a fully qualified call inside a method body
        var refs = References(typeof(ArchitectureTests).Assembly)
            .Where(r => r.From == typeof(Probe))
            .Select(r => r.To)
            .ToList();
        Assert.Contains(typeof(FaceDistill.Experiments.ExperimentTable), refs);
        Assert.Contains(typeof(Console), refs);
    }

    private static class Probe
    {
        public static void Body()
        {
            _ = FaceDistill.Experiments.ExperimentTable.MetricsOf("x");
            Console.Out.Flush();
        }
    }

    /// <summary>Every (type, referenced type) pair of an assembly.</summary>
    internal static IEnumerable<(Type From, Type To)> References(Assembly assembly)
    {
        foreach (var t in assembly.GetTypes())
        {
            var refs = new HashSet<Type>();
            void Add(Type? x)
            {
                if (x is null || !refs.Add(x))
                    return;
                if (x.HasElementType)
                    Add(x.GetElementType());
                if (x.IsGenericType)
                    foreach (var g in x.GetGenericArguments())
                        Add(g);
            }
            Add(t.BaseType);
            foreach (var i in t.GetInterfaces())
                Add(i);
            const BindingFlags all =
                BindingFlags.Public
                | BindingFlags.NonPublic
                | BindingFlags.Instance
                | BindingFlags.Static
                | BindingFlags.DeclaredOnly;
            foreach (var f in t.GetFields(all))
                Add(f.FieldType);
            foreach (var p in t.GetProperties(all))
                Add(p.PropertyType);
            foreach (var m in t.GetMethods(all).Cast<MethodBase>().Concat(t.GetConstructors(all)))
            {
                if (m is MethodInfo mi)
                    Add(mi.ReturnType);
                foreach (var p in m.GetParameters())
                    Add(p.ParameterType);
                foreach (var x in BodyReferences(m))
                    Add(x);
            }
            foreach (var r in refs)
                yield return (t, r);
        }
    }

    private static readonly Dictionary<short, OpCode> OpCodeTable = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    private static IEnumerable<Type> BodyReferences(MethodBase m)
    {
        byte[]? il;
        try
        {
            il = m.GetMethodBody()?.GetILAsByteArray();
        }
        catch (Exception)
        {
            yield break;
        }
        if (il is null)
            yield break;
        var typeArgs = m.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        var methodArgs = m.IsGenericMethod ? m.GetGenericArguments() : null;
        for (int pos = 0; pos < il.Length; )
        {
            short value = il[pos] == 0xFE ? (short)(0xFE00 | il[pos + 1]) : il[pos];
            pos += il[pos] == 0xFE ? 2 : 1;
            var op = OpCodeTable[value];
            int size = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, pos),
                _ => 4,
            };
            if (
                op.OperandType
                is OperandType.InlineField
                    or OperandType.InlineMethod
                    or OperandType.InlineTok
                    or OperandType.InlineType
            )
            {
                MemberInfo? member = null;
                try
                {
                    member = m.Module.ResolveMember(BitConverter.ToInt32(il, pos), typeArgs, methodArgs);
                }
                catch (ArgumentException) { }
                if (member is Type type)
                    yield return type;
                else if (member?.DeclaringType is { } owner)
                {
                    yield return owner;
                    if (member is MethodInfo { IsGenericMethod: true } gm)
                        foreach (var g in gm.GetGenericArguments())
                            yield return g;
                }
            }
            pos += size;
        }
    }

    private static List<string>? FindCycle(Dictionary<string, HashSet<string>> edges)
    {
        var state = new Dictionary<string, int>();
        var stack = new List<string>();
        List<string>? Visit(string n)
        {
            state[n] = 1;
            stack.Add(n);
            foreach (var next in edges.GetValueOrDefault(n) ?? [])
            {
                if (state.GetValueOrDefault(next) == 1)
                    return [.. stack.SkipWhile(s => s != next), next];
                if (state.GetValueOrDefault(next) == 0 && Visit(next) is { } c)
                    return c;
            }
            stack.RemoveAt(stack.Count - 1);
            state[n] = 2;
            return null;
        }
        foreach (var n in edges.Keys.Order())
            if (state.GetValueOrDefault(n) == 0 && Visit(n) is { } c)
                return c;
        return null;
    }
}
