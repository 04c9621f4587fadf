using System.Globalization;
using FaceDistill.Core;
using FaceDistill.Faces;

namespace FaceDistill.Faces;

/// <summary>Reads a landmarks CSV: a header with a <c>path</c> column and <c>x0,y0 … x67,y67</c> (other columns
/// ignored), as written by <c>facedistill synth</c>/<c>align</c> and shipped with celeba299. Paths are relative to the
/// CSV's folder.</summary>
public static class LandmarkCsv
{
    public static Dictionary<string, FaceLandmarks> Read(string csvPath)
    {
        if (!File.Exists(csvPath))
            throw FaceDistillException.ForFile(csvPath, "landmarks file not found");
        var records = Csv.Records(File.ReadAllText(csvPath), csvPath).ToList();
        if (records.Count == 0)
            throw FaceDistillException.ForFile(csvPath, "empty landmarks file");
        var header = records[0].Fields.Select(h => h.Trim()).ToList();
        int pathCol = header.IndexOf("path");
        var xs = Enumerable.Range(0, FaceLandmarks.Count).Select(i => header.IndexOf($"x{i}")).ToArray();
        var ys = Enumerable.Range(0, FaceLandmarks.Count).Select(i => header.IndexOf($"y{i}")).ToArray();
        if (pathCol < 0 || xs.Contains(-1) || ys.Contains(-1))
            throw FaceDistillException.ForFile(csvPath, "header must have 'path' and x0,y0 … x67,y67");
        var result = new Dictionary<string, FaceLandmarks>(StringComparer.Ordinal);
        foreach (var (line, f) in records.Skip(1))
        {
            if (f.Length < header.Count)
                throw FaceDistillException.ForFile(
                    csvPath,
                    $"line {line}: {f.Length} fields, the header has {header.Count}"
                );
            var pts = new Point2[FaceLandmarks.Count];
            for (int i = 0; i < pts.Length; i++)
            {
                if (
                    !double.TryParse(f[xs[i]], NumberStyles.Float, CultureInfo.InvariantCulture, out var x)
                    || !double.TryParse(f[ys[i]], NumberStyles.Float, CultureInfo.InvariantCulture, out var y)
                    || !double.IsFinite(x)
                    || !double.IsFinite(y)
                )
                    throw FaceDistillException.ForFile(csvPath, $"line {line}: landmark {i} is not a number");
                pts[i] = new Point2(x, y);
            }
            result[f[pathCol].Replace('\\', '/')] = new FaceLandmarks(pts);
        }
        return result;
    }

    public static string Header =>
        "path," + string.Join(',', Enumerable.Range(0, FaceLandmarks.Count).Select(i => $"x{i},y{i}"));

    /// <summary>One row; the path is quoted when it holds a comma, a quote or a line break (RFC 4180).</summary>
    public static string Row(string path, FaceLandmarks lm) =>
        Csv.Field(path)
        + ","
        + string.Join(
            ',',
            lm.Points.Select(p =>
                $"{p.X.ToString("F2", CultureInfo.InvariantCulture)},{p.Y.ToString("F2", CultureInfo.InvariantCulture)}"
            )
        );
}
