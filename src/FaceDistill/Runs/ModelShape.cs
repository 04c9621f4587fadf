using System.Text.Json;
using FaceDistill.Core;

namespace FaceDistill.Runs;

/// <summary>
/// <c>model.json</c> of a run directory: what building the run's model needs beyond its config — the number of
/// classes of its head and the mean age an age head starts from — written when the run starts. With it a run
/// directory copied to another machine (a server, without the training data) loads, serves and exports; only an
/// evaluation that reads the run's own data needs the data.
/// </summary>
public sealed record ModelShape(int Classes, double AgeMean)
{
    public const string File = "model.json";

    public void Write(string runDir) =>
        AtomicFile.WriteAllText(Path.Combine(runDir, File), JsonSerializer.Serialize(this));

    /// <summary>The run's shape, or null for a run written before <c>model.json</c> existed.</summary>
    public static ModelShape? Read(string runDir)
    {
        var path = Path.Combine(runDir, File);
        if (!System.IO.File.Exists(path))
            return null;
        try
        {
            return JsonSerializer.Deserialize<ModelShape>(System.IO.File.ReadAllText(path)) is { Classes: >= 0 } s
                ? s
                : throw FaceDistillException.ForFile(path, "not a model shape (classes, ageMean)");
        }
        catch (JsonException e)
        {
            throw FaceDistillException.ForFile(path, $"not readable JSON ({e.Message})");
        }
    }
}
