namespace FaceDistill.Data;

/// <summary>The 7 basic expressions, in FER2013's class order.</summary>
public enum Expression
{
    Angry = 0,
    Disgust = 1,
    Fear = 2,
    Happy = 3,
    Neutral = 4,
    Sad = 5,
    Surprise = 6,
}

/// <summary>Labels of one face; any may be missing (-1 / NaN / null). <see cref="Soft"/>: a class distribution for
/// the classification task, where the face has one (<see cref="SoftLabels"/>); training then takes it as the
/// target instead of the hard class.</summary>
public sealed record FaceLabels(
    int Identity = -1,
    int Expression = -1,
    float Age = float.NaN,
    int Gender = -1,
    float[]? Landmarks = null,
    float[]? Soft = null
)
{
    public static readonly FaceLabels None = new();
}

/// <summary>The task a model is trained for; decides which label is the target.</summary>
public enum FaceTask
{
    Recognition,
    Expression,
    Age,
    Gender,
}

public static class FaceTaskExtensions
{
    public static FaceTask Parse(string name) =>
        name.ToLowerInvariant() switch
        {
            "recognition" or "identity" or "verification" => FaceTask.Recognition,
            "expression" or "fer" => FaceTask.Expression,
            "age" => FaceTask.Age,
            "gender" => FaceTask.Gender,
            _ => throw new FormatException($"unknown task '{name}' (expected recognition, expression, age or gender)"),
        };

    public static bool IsClassification(this FaceTask t) => t != FaceTask.Age;

    /// <summary>The class label of a sample for the task (-1 when missing; age has none).</summary>
    public static int ClassLabel(this FaceTask t, FaceLabels l) =>
        t switch
        {
            FaceTask.Recognition => l.Identity,
            FaceTask.Expression => l.Expression,
            FaceTask.Gender => l.Gender,
            _ => -1,
        };
}
