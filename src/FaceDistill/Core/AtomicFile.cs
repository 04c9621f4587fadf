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
}
