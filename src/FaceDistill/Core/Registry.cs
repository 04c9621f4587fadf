namespace FaceDistill.Core;

/// <summary>An entry of a <see cref="Registry{T}"/>: something selected by name in a config.</summary>
public interface INamed
{
    string Name { get; }
}

/// <summary>
/// Named entries of one kind (distillation methods, backbones, heads, views, data sources), in registration order.
/// A config names an entry; an unknown name is a one-line error listing the known ones.
/// </summary>
public sealed class Registry<T>(string kind, IEnumerable<T> entries)
    where T : INamed
{
    private readonly List<T> _entries = Unique(kind, entries);

    public string Kind { get; } = kind;

    public IReadOnlyList<T> Entries => _entries;

    public IReadOnlyList<string> Names => _entries.Select(e => e.Name).ToList();

    public bool Contains(string name) => Find(name) is not null;

    public T? Find(string name) =>
        _entries.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The entry called <paramref name="name"/>; otherwise an error naming the unknown name and the known
    /// ones.</summary>
    public T Get(string name) =>
        Find(name)
        ?? throw new FaceDistillException($"unknown {Kind} '{name}' (expected one of {string.Join(", ", Names)})");

    /// <summary>A copy with one more entry (a plug-in, or a test's throw-away method).</summary>
    public Registry<T> With(T entry) => new(Kind, _entries.Append(entry));

    private static List<T> Unique(string kind, IEnumerable<T> entries)
    {
        var list = entries.ToList();
        var twice = list.GroupBy(e => e.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
            throw new ArgumentException($"{kind} '{twice.Key}' is registered twice");
        return list;
    }
}
