namespace FaceDistill.Config;

/// <summary>A key of one distillation method's section (<c>distill.&lt;name&gt;</c>), declared once beside the method
/// with its default (null: optional, unset unless given). A method's entry lists its keys; the resolved section holds
/// a value for every key with a default, read back through <see cref="DistillConfig.Get(NumberKey)"/> and its
/// siblings. Two methods may declare keys of the same name with their own meaning and default (DKD's and GKD's
/// <c>alpha</c>, <c>beta</c>).</summary>
public abstract class MethodKey(string name)
{
    public string Name { get; } = name;

    /// <summary>The key as the config and its errors name it: <c>distill.&lt;name&gt;</c>.</summary>
    public string Path => $"distill.{Name}";

    /// <summary>The default as a JSON value (null: none).</summary>
    public abstract object? DefaultValue { get; }

    /// <summary>What a value of the key must be, for error messages: "a number", "an integer", "a string".</summary>
    public abstract string Kind { get; }

    public override string ToString() => Path;
}

/// <summary>A real-valued method key.</summary>
public sealed class NumberKey(string name, double? defaultValue = null) : MethodKey(name)
{
    public double? Default { get; } = defaultValue;
    public override object? DefaultValue => Default;
    public override string Kind => "a number";
}

/// <summary>An integer method key.</summary>
public sealed class IntegerKey(string name, int? defaultValue = null) : MethodKey(name)
{
    public int? Default { get; } = defaultValue;
    public override object? DefaultValue => Default;
    public override string Kind => "an integer";
}

/// <summary>A string method key (a name from a list, a view, a teacher spec).</summary>
public sealed class TextKey(string name, string? defaultValue = null) : MethodKey(name)
{
    public string? Default { get; } = defaultValue;
    public override object? DefaultValue => Default;
    public override string Kind => "a string";
}
