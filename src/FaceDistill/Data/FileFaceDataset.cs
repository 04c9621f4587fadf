using System.Globalization;
using FaceDistill.Core;

namespace FaceDistill.Data;

/// <summary>Face images on disk with labels known up front. Built by the readers below:
/// <see cref="FromImageFolder"/> (folder = label), <see cref="FromUtkFace"/> (labels in file names),
/// <see cref="FromCsv"/> (a label file).</summary>
public sealed class FileFaceDataset : IFaceDataset
{
    private readonly List<(string Path, FaceLabels Labels)> _items;
    private readonly Dictionary<FaceTask, int> _classes;

    public IReadOnlyList<string> ClassNames { get; }
    public string Root { get; }

    public FileFaceDataset(
        string root,
        List<(string, FaceLabels)> items,
        Dictionary<FaceTask, int> classes,
        IReadOnlyList<string>? classNames = null
    )
    {
        Root = root;
        _items = items;
        _classes = classes;
        ClassNames = classNames ?? [];
    }

    public int Count => _items.Count;

    public int ClassCount(FaceTask task) => _classes.TryGetValue(task, out var n) ? n : 0;

    public FaceLabels Labels(int index) => _items[index].Labels;

    public RgbImage Image(int index) => ImageCodec.Load(_items[index].Path);

    public string Describe(int index) => _items[index].Path;

    public string PathOf(int index) => _items[index].Path;

    private static void RequireDirectory(string root)
    {
        if (!Directory.Exists(root))
            throw FaceDistillException.ForFile(root, "dataset directory not found");
    }

    /// <summary><c>root/&lt;class&gt;/*.jpg</c>. For <see cref="FaceTask.Expression"/> the folder names must be the 7
    /// FER2013 class names (angry, disgust, fear, happy, neutral, sad, surprise); otherwise classes are the sorted
    /// folder names.</summary>
    public static FileFaceDataset FromImageFolder(string root, FaceTask task)
    {
        RequireDirectory(root);
        var dirs = Directory.GetDirectories(root).OrderBy(d => d, StringComparer.Ordinal).ToList();
        if (dirs.Count == 0)
            throw FaceDistillException.ForFile(root, "no class folders (expected root/<class>/<image>)");
        var names = dirs.Select(Path.GetFileName).ToList();
        Func<int, FaceLabels> label;
        int classCount;
        if (task == FaceTask.Expression)
        {
            var ids = names
                .Select(n => Enum.TryParse<Expression>(n, ignoreCase: true, out var e) ? (int)e : -1)
                .ToList();
            var bad = names.Where((n, i) => ids[i] < 0).ToList();
            if (bad.Count > 0)
                throw FaceDistillException.ForFile(
                    root,
                    $"folder '{bad[0]}' is not an expression class (expected "
                        + $"{string.Join(", ", Enum.GetNames<Expression>()).ToLowerInvariant()})"
                );
            label = i => new FaceLabels(Expression: ids[i]);
            classCount = 7;
            names = Enum.GetNames<Expression>().Select(n => n.ToLowerInvariant()).ToList()!;
        }
        else if (task == FaceTask.Gender)
        {
            label = i => new FaceLabels(Gender: i);
            classCount = dirs.Count;
        }
        else
        {
            label = i => new FaceLabels(Identity: i);
            classCount = dirs.Count;
        }
        var items = new List<(string, FaceLabels)>();
        for (int i = 0; i < dirs.Count; i++)
            foreach (
                var f in Directory
                    .EnumerateFiles(dirs[i])
                    .Where(ImageCodec.IsImagePath)
                    .OrderBy(f => f, StringComparer.Ordinal)
            )
                items.Add((f, label(i)));
        if (items.Count == 0)
            throw FaceDistillException.ForFile(root, "no images found");
        var softPath = Path.Combine(root, SoftLabels.FileName);
        if (File.Exists(softPath))
            AttachSoftLabels(root, softPath, items, names!);
        return new FileFaceDataset(root, items, new() { [task] = classCount }, names!);
    }

    /// <summary>Sets <see cref="FaceLabels.Soft"/> of every image <c>soft-labels.csv</c> lists; a row naming no image
    /// of the folder is an error naming the file.</summary>
    private static void AttachSoftLabels(
        string root,
        string softPath,
        List<(string Path, FaceLabels Labels)> items,
        IReadOnlyList<string> names
    )
    {
        var rows = SoftLabels.Read(softPath, names);
        int found = 0;
        for (int i = 0; i < items.Count; i++)
            if (rows.TryGetValue(SoftLabels.Key(root, items[i].Path), out var q))
            {
                items[i] = (items[i].Path, items[i].Labels with { Soft = q });
                found++;
            }
        if (found < rows.Count)
        {
            var keys = items.Select(it => SoftLabels.Key(root, it.Path)).ToHashSet(StringComparer.Ordinal);
            throw FaceDistillException.ForFile(
                softPath,
                $"'{rows.Keys.First(k => !keys.Contains(k))}' is not an image of {root}"
            );
        }
    }

    /// <summary>UTKFace names: <c>age_gender_race_datetime.jpg</c> (gender 0 = male, 1 = female). Files whose name does
    /// not parse are skipped and counted in <paramref name="skipped"/>.</summary>
    public static FileFaceDataset FromUtkFace(string root, out int skipped)
    {
        RequireDirectory(root);
        var items = new List<(string, FaceLabels)>();
        skipped = 0;
        foreach (
            var f in Directory
                .EnumerateFiles(root, "*", SearchOption.AllDirectories)
                .Where(ImageCodec.IsImagePath)
                .OrderBy(f => f, StringComparer.Ordinal)
        )
        {
            if (TryParseUtkName(Path.GetFileName(f), out var age, out var gender))
                items.Add((f, new FaceLabels(Age: age, Gender: gender)));
            else
                skipped++;
        }
        if (items.Count == 0)
            throw FaceDistillException.ForFile(root, "no UTKFace-style images (age_gender_race_*.jpg) found");
        return new FileFaceDataset(root, items, new() { [FaceTask.Gender] = 2 }, ["male", "female"]);
    }

    public static bool TryParseUtkName(string name, out float age, out int gender)
    {
        age = float.NaN;
        gender = -1;
        var parts = name.Split('_');
        if (parts.Length < 3)
            return false;
        if (!int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var a) || a < 0 || a > 130)
            return false;
        if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var g) || g is < 0 or > 1)
            return false;
        age = a;
        gender = g;
        return true;
    }

    /// <summary>
    /// A CSV with a header; column <c>path</c> (relative to the CSV's folder or absolute) and any of
    /// <c>identity</c>, <c>expression</c>, <c>age</c>, <c>gender</c>. A malformed row is an error naming file and line.
    /// </summary>
    public static FileFaceDataset FromCsv(string csvPath)
    {
        if (!File.Exists(csvPath))
            throw FaceDistillException.ForFile(csvPath, "label file not found");
        var records = Csv.Records(File.ReadAllText(csvPath), csvPath).ToList();
        if (records.Count == 0)
            throw FaceDistillException.ForFile(csvPath, "label file is empty");
        var header = records[0].Fields.Select(h => h.Trim().ToLowerInvariant()).ToList();
        int col(string n) => header.IndexOf(n);
        int iPath = col("path"),
            iId = col("identity"),
            iExpr = col("expression"),
            iAge = col("age"),
            iGender = col("gender");
        if (iPath < 0)
            throw FaceDistillException.ForFile(csvPath, "header has no 'path' column");
        if (iId < 0 && iExpr < 0 && iAge < 0 && iGender < 0)
            throw FaceDistillException.ForFile(
                csvPath,
                "header has no label column (identity, expression, age or gender)"
            );
        var dir = Path.GetDirectoryName(Path.GetFullPath(csvPath))!;
        var items = new List<(string, FaceLabels)>();
        var identityNames = new Dictionary<string, int>();
        foreach (var (line, f) in records.Skip(1))
        {
            int ln = line - 1; // messages below say line ln + 1
            if (f.Length != header.Count)
                throw FaceDistillException.ForFile(
                    csvPath,
                    $"line {ln + 1}: expected {header.Count} fields, found {f.Length}"
                );
            string? cell(int i) => i >= 0 && f[i].Trim().Length > 0 ? f[i].Trim() : null;
            int intCell(int i, string name, int min, int max)
            {
                var c = cell(i);
                if (c is null)
                    return -1;
                if (
                    !int.TryParse(c, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
                    || v < min
                    || v > max
                )
                    throw FaceDistillException.ForFile(
                        csvPath,
                        $"line {ln + 1}: {name} '{c}' is not an integer in [{min}, {max}]"
                    );
                return v;
            }
            int identity = -1;
            if (cell(iId) is { } idName)
            {
                if (!identityNames.TryGetValue(idName, out identity))
                    identityNames[idName] = identity = identityNames.Count;
            }
            float age = float.NaN;
            if (
                cell(iAge) is { } ageText
                && (
                    !float.TryParse(ageText, NumberStyles.Float, CultureInfo.InvariantCulture, out age)
                    || !float.IsFinite(age)
                    || age < 0
                )
            )
                throw FaceDistillException.ForFile(
                    csvPath,
                    $"line {ln + 1}: age '{ageText}' is not a non-negative number"
                );
            var rel = cell(iPath) ?? throw FaceDistillException.ForFile(csvPath, $"line {ln + 1}: empty path");
            items.Add(
                (
                    Path.IsPathRooted(rel) ? rel : Path.Combine(dir, rel),
                    new FaceLabels(identity, intCell(iExpr, "expression", 0, 6), age, intCell(iGender, "gender", 0, 1))
                )
            );
        }
        if (items.Count == 0)
            throw FaceDistillException.ForFile(csvPath, "no rows");
        var classes = new Dictionary<FaceTask, int>();
        if (iId >= 0)
            classes[FaceTask.Recognition] = identityNames.Count;
        if (iExpr >= 0)
            classes[FaceTask.Expression] = 7;
        if (iGender >= 0)
            classes[FaceTask.Gender] = 2;
        return new FileFaceDataset(dir, items, classes, identityNames.Keys.ToList());
    }
}
