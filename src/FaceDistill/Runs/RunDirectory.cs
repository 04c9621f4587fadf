using FaceDistill.Core;
using FaceDistill.Training;

namespace FaceDistill.Runs;

/// <summary>What to do when the run directory already holds a run.</summary>
public enum ExistingRun
{
    Refuse,
    Resume,
    Force,
}

/// <summary>
/// <c>runs/&lt;name&gt;/</c>: config.json (resolved), metrics.csv, checkpoints/, report.md and report.json.
/// An existing run is never overwritten silently: it is refused unless the caller asks to resume it or to replace it
/// (--force moves the old run aside to <c>&lt;name&gt;.old-&lt;time&gt;</c> rather than deleting it).
/// </summary>
public sealed class RunDirectory
{
    public string Path { get; }
    public string ConfigPath => System.IO.Path.Combine(Path, "config.json");
    public string MetricsPath => System.IO.Path.Combine(Path, Trainer.MetricsFile);
    public string CheckpointDir => System.IO.Path.Combine(Path, Trainer.CheckpointFolder);
    public string ReportPath => System.IO.Path.Combine(Path, "report.md");
    public string ReportJsonPath => System.IO.Path.Combine(Path, "report.json");

    private RunDirectory(string path)
    {
        Path = path;
    }

    public static bool HasRun(string path) =>
        Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any();

    public static RunDirectory Open(string path, ExistingRun mode)
    {
        if (HasRun(path))
        {
            switch (mode)
            {
                case ExistingRun.Refuse:
                    throw FaceDistillException.ForFile(
                        path,
                        "run directory already exists; use --resume to continue it or --force to start over (the old "
                            + "run is kept aside)"
                    );
                case ExistingRun.Force:
                    var aside = $"{path.TrimEnd('/')}.old-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
                    for (int k = 2; Directory.Exists(aside) || File.Exists(aside); k++)
                        aside = $"{path.TrimEnd('/')}.old-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{k}";
                    Directory.Move(path, aside);
                    Log.Info($"moved the previous run to {aside}");
                    break;
            }
        }
        else if (mode == ExistingRun.Resume && !Directory.Exists(path))
        {
            throw FaceDistillException.ForFile(path, "cannot resume: no such run directory");
        }
        Directory.CreateDirectory(path);
        return new RunDirectory(path);
    }

    public string Artifact(string name) => System.IO.Path.Combine(Path, name);
}
