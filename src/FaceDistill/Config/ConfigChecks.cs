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
    /// <summary>Told the rule of every key a check looks at (key, rule in words): how the key-by-key reference
    /// (<c>facedistill config keys</c>, docs/config-keys.md) is collected from the checks themselves.</summary>
    public Action<string, string>? Rules { get; init; }

    public FaceDistillException Error(string key, string problem) =>
        FaceDistillException.ForFile(Source, $"key '{key}' {problem}");

    public void Fail(string key, string problem) => throw Error(key, problem);

    public void OneOf(string key, string value, IReadOnlyCollection<string> allowed)
    {
        Rules?.Invoke(key, "one of " + string.Join(", ", allowed));
        if (!allowed.Contains(value.ToLowerInvariant()))
            Fail(key, $"is '{value}', expected one of {string.Join(", ", allowed)}");
    }

    public void Positive(string key, double v)
    {
        Rules?.Invoke(key, "> 0");
        if (!(v > 0) || double.IsInfinity(v))
            Fail(key, $"must be positive, found {v}");
    }

    public void NonNegative(string key, double v)
    {
        Rules?.Invoke(key, ">= 0");
        if (!(v >= 0) || double.IsInfinity(v))
            Fail(key, $"must be >= 0, found {v}");
    }

    public void Fraction(string key, double v, bool allowZero = false)
    {
        Rules?.Invoke(key, $"{(allowZero ? "[0" : "(0")}, 1]");
        if (!(v > 0 || (allowZero && v == 0)) || v > 1)
            Fail(key, $"must be in {(allowZero ? "[0" : "(0")}, 1], found {v}");
    }

    public void InRange(string key, double v, double min, double max)
    {
        Rules?.Invoke(key, $"[{N(min)}, {N(max)}]");
        if (!(v >= min && v <= max))
            Fail(key, $"must be in [{min}, {max}], found {v}");
    }

    /// <summary>[min, max) — an upper end the value may approach but not reach (a dropout, a momentum).</summary>
    public void BelowOne(string key, double v, double min = 0)
    {
        Rules?.Invoke(key, $"[{N(min)}, 1)");
        if (!(v >= min && v < 1))
            Fail(key, $"must be in [{min}, 1), found {v}");
    }

    public void AtLeast(string key, double v, double min)
    {
        Rules?.Invoke(key, $">= {N(min)}");
        if (!(v >= min) || double.IsInfinity(v))
            Fail(key, $"must be at least {min}, found {v}");
    }

    /// <summary>A key whose rule is not a range (a name parsed elsewhere, a relation between keys), for the
    /// reference.</summary>
    public void Describe(string key, string rule) => Rules?.Invoke(key, rule);

    private static string N(double v) =>
        Math.Abs(v - Math.PI / 2) < 1e-12 ? "π/2"
        : Math.Abs(v + Math.PI / 2) < 1e-12 ? "−π/2"
        : Math.Abs(v) is >= 1e-4 and < 1e7 or 0
            ? v.ToString("0.######", System.Globalization.CultureInfo.InvariantCulture)
        : v.ToString("0.#e0", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Whether a path a config names is a file (or one a plan will create). An empty path, or one with a NUL
    /// character, is none — and never reaches the plan's path arithmetic, which would throw on it.</summary>
    public bool FileOk(string path) => Usable(path) && (File.Exists(path) || Planned?.Invoke(path) == true);

    public bool DirOk(string path) => Usable(path) && (Directory.Exists(path) || Planned?.Invoke(path) == true);

    private static bool Usable(string path) => !string.IsNullOrWhiteSpace(path) && !path.Contains('\0');

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
