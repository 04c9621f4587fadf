using System.Text;

namespace FaceDistill.Core;

/// <summary>
/// Atomic writes: the content goes to a temporary file beside the target, is flushed to disk, and is then renamed
/// over the target, so a reader (or a killed run) sees either the old file or the new one, never half of one.
/// </summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string text) =>
        Write(path, tmp => File.WriteAllText(tmp, text, new UTF8Encoding(false)));

    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, tmp => File.WriteAllBytes(tmp, bytes));

    /// <summary>Runs <paramref name="writer"/> on a temporary path, then renames it to <paramref
    /// name="path"/>.</summary>
    public static void Write(string path, Action<string> writer)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            writer(tmp);
            using (var fs = new FileStream(tmp, FileMode.Open, FileAccess.ReadWrite))
                fs.Flush(flushToDisk: true);
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp))
                File.Delete(tmp);
        }
    }

    /// <summary>Builds a directory under a temporary name, then renames it into place (replacing nothing).</summary>
    public static void WriteDirectory(string path, Action<string> writer)
    {
        var full = Path.GetFullPath(path);
        var parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        var tmp = Path.Combine(parent, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(tmp);
            writer(tmp);
            if (Directory.Exists(full))
                Directory.Delete(full, recursive: true);
            Directory.Move(tmp, full);
        }
        finally
        {
            if (Directory.Exists(tmp))
                Directory.Delete(tmp, recursive: true);
        }
    }

    /// <summary>Checks, before any work, that an output file can be written: its folder exists or can be made, and a
    /// file can be created there (a probe, removed at once). A path that is a folder is refused too; the error names
    /// <paramref name="what"/> (e.g. the option that gave the path).</summary>
    public static void CheckWritable(string path, string what)
    {
        if (Directory.Exists(path))
            throw new FaceDistillException($"{what} {path}: is a folder, not a file");
        try
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
            Directory.CreateDirectory(dir);
            var probe = Path.Combine(dir, $".facedistill-probe-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FaceDistillException($"{what} {path}: cannot be written ({e.Message})");
        }
    }
}
