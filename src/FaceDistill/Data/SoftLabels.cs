using System.Globalization;
using FaceDistill.Core;

namespace FaceDistill.Data;

/// <summary>
/// Soft labels of an image folder (class = folder): <c>soft-labels.csv</c> beside the class folders, header
/// <c>file,&lt;class 0&gt;,…,&lt;class C−1&gt;</c> (the task's class names in order), one row per image — its path
/// relative to the folder with '/' separators, then its class distribution q (C non-negative numbers summing to 1).
/// <see cref="FileFaceDataset.FromImageFolder"/> reads it when present and hands q to training as
/// <see cref="FaceLabels.Soft"/>; the folder still names the image's hard class (the arg max it was made for), and an
/// image without a row keeps its hard label. What a condensation with soft labels writes (<c>condense.softLabels</c>).
/// </summary>
public static class SoftLabels
{
    public const string FileName = "soft-labels.csv";

    /// <summary>How far a row's sum may be from 1 (the file stores 6 significant digits).</summary>
    public const double SumTolerance = 1e-3;

    public static void Write(string path, IReadOnlyList<string> classNames, IEnumerable<(string File, float[] Q)> rows)
    {
        var lines = new List<string> { Csv.Row(classNames.Prepend("file")) };
        foreach (var (file, q) in rows)
        {
            if (q.Length != classNames.Count)
                throw new ArgumentException($"{file}: {q.Length} probabilities for {classNames.Count} classes");
            lines.Add(Csv.Row(q.Select(p => p.ToString("G6", CultureInfo.InvariantCulture)).Prepend(file)));
        }
        AtomicFile.WriteAllText(path, string.Join('\n', lines) + "\n");
    }

    /// <summary>The rows of <paramref name="path"/> (relative file → q). A header other than the classes, a row of
    /// the wrong width, a value that is not a probability, a sum away from 1 or a file named twice is an error naming
    /// the file and the line.</summary>
    public static Dictionary<string, float[]> Read(string path, IReadOnlyList<string> classNames)
    {
        var records = Csv.Records(File.ReadAllText(path), path).ToList();
        var expected = classNames.Prepend("file").ToArray();
        if (records.Count == 0 || !records[0].Fields.SequenceEqual(expected))
            throw FaceDistillException.ForFile(path, $"line 1: header must be '{string.Join(',', expected)}'");
        var rows = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var (line, fields) in records.Skip(1))
        {
            string Where() => $"line {line}";
            if (fields.Length != expected.Length)
                throw FaceDistillException.ForFile(
                    path,
                    $"{Where()}: {fields.Length} fields, expected {expected.Length} "
                        + $"(file and {classNames.Count} classes)"
                );
            var q = new float[classNames.Count];
            for (int c = 0; c < q.Length; c++)
                if (
                    !float.TryParse(fields[c + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out q[c])
                    || !(q[c] >= 0 && q[c] <= 1)
                )
                    throw FaceDistillException.ForFile(
                        path,
                        $"{Where()}: '{fields[c + 1]}' ({classNames[c]}) is not a probability in [0, 1]"
                    );
            double sum = q.Sum(p => (double)p);
            if (Math.Abs(sum - 1) > SumTolerance)
                throw FaceDistillException.ForFile(path, $"{Where()}: the probabilities sum to {sum:G4}, not 1");
            if (!rows.TryAdd(fields[0].Replace('\\', '/'), q))
                throw FaceDistillException.ForFile(path, $"{Where()}: '{fields[0]}' is listed twice");
        }
        return rows;
    }

    /// <summary>The key of an image in the file: its path relative to the folder, '/'-separated.</summary>
    public static string Key(string root, string imagePath) =>
        Path.GetRelativePath(root, imagePath).Replace(Path.DirectorySeparatorChar, '/');
}
