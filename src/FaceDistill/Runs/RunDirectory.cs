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
/// <para>One writer per run: <see cref="Open"/> takes an exclusive lock on <c>.&lt;name&gt;.lock</c> beside the run
/// directory (an OS file lock, <c>flock</c> on Linux: released by the kernel when the process dies, kill -9 included)
/// and holds it until <see cref="Dispose"/>; a second process, or a second open in this one, is refused.</para>
/// </summary>
public sealed class RunDirectory : IDisposable
{
    private readonly FileStream _lock;
    public string Path { get; }
    public string ConfigPath => System.IO.Path.Combine(Path, "config.json");
    public string MetricsPath => System.IO.Path.Combine(Path, Trainer.MetricsFile);
    public string CheckpointDir => System.IO.Path.Combine(Path, Trainer.CheckpointFolder);
    public string ReportPath => System.IO.Path.Combine(Path, "report.md");
    public string ReportJsonPath => System.IO.Path.Combine(Path, "report.json");

    private RunDirectory(string path, FileStream lockFile)
    {
        Path = path;
        _lock = lockFile;
    }

    public void Dispose() => _lock.Dispose();

    private static FileStream Lock(string path)
    {
        var full = System.IO.Path.GetFullPath(path).TrimEnd('/', '\\');
        var parent = System.IO.Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        var lockPath = System.IO.Path.Combine(parent, $".{System.IO.Path.GetFileName(full)}.lock");
        try
        {
            return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw FaceDistillException.ForFile(
                path,
                "another process is writing this run (one writer per run); wait for it to finish or stop it"
            );
        }
    }

    public static bool HasRun(string path) =>
        Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any();

    public static RunDirectory Open(string path, ExistingRun mode)
    {
        var held = Lock(path);
        try
        {
            return OpenLocked(path, mode, held);
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    private static RunDirectory OpenLocked(string path, ExistingRun mode, FileStream held)
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
        return new RunDirectory(path, held);
    }

    public string Artifact(string name) => System.IO.Path.Combine(Path, name);
}
