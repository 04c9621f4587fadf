using FaceDistill.Core;

namespace FaceDistill.Config;

/// <summary>
/// The value checks of a config file, each failing with one line naming the file and the key. Shared by the section
/// validators and by every registry entry (a method, a backbone, a head) that checks its own keys.
/// </summary>
/// <param name="Source">The config file (or "(defaults)") the messages name.</param>
/// <param name="Planned">Paths an experiment's <c>prepare</c> steps will create (accepted though absent yet).</param>
public sealed record ConfigChecks(string Source, Func<string, bool>? Planned = null)
{
    public FaceDistillException Error(string key, string problem) =>
        FaceDistillException.ForFile(Source, $"key '{key}' {problem}");

    public void Fail(string key, string problem) => throw Error(key, problem);

    public void OneOf(string key, string value, IReadOnlyCollection<string> allowed)
    {
        if (!allowed.Contains(value.ToLowerInvariant()))
            Fail(key, $"is '{value}', expected one of {string.Join(", ", allowed)}");
    }

    public void Positive(string key, double v)
    {
        if (!(v > 0) || double.IsInfinity(v))
            Fail(key, $"must be positive, found {v}");
    }

    public void NonNegative(string key, double v)
    {
        if (!(v >= 0) || double.IsInfinity(v))
            Fail(key, $"must be >= 0, found {v}");
    }

    public void Fraction(string key, double v, bool allowZero = false)
    {
        if (!(v > 0 || (allowZero && v == 0)) || v > 1)
            Fail(key, $"must be in {(allowZero ? "[0" : "(0")}, 1], found {v}");
    }

    public void InRange(string key, double v, double min, double max)
    {
        if (!(v >= min && v <= max))
            Fail(key, $"must be in [{min}, {max}], found {v}");
    }

    public bool FileOk(string path) => File.Exists(path) || Planned?.Invoke(path) == true;

    public bool DirOk(string path) => Directory.Exists(path) || Planned?.Invoke(path) == true;

    /// <summary>Runs a parser of a value (a view name, a teacher spec) and reports its error under <paramref
    /// name="key"/>.</summary>
    public void Parses(string key, Action parse)
    {
        try
        {
            parse();
        }
        catch (FaceDistillException e)
        {
            Fail(key, e.Message);
        }
    }
}
