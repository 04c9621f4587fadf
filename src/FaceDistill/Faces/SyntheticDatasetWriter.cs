using System.Globalization;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Data.Synthetic;
using FaceDistill.Plots;
using SkiaSharp;

namespace FaceDistill.Faces;

/// <summary>Writes synthetic faces as an ordinary dataset (<c>facedistill synth</c>): <c>id&lt;k&gt;/&lt;n&gt;.png</c>
/// (identity = folder), <c>labels.csv</c> (<c>path,identity,expression,age,gender</c>, readable by <c>data.source:
/// csv</c>) and <c>landmarks.csv</c> (<see cref="LandmarkCsv"/>).</summary>
public static class SyntheticDatasetWriter
{
    public static void Write(SyntheticFaces ds, string dir)
    {
        var labels = new List<string> { "path,identity,expression,age,gender" };
        var marks = new List<string> { LandmarkCsv.Header };
        using (var bar = Progress.Start("synth", ds.Count))
            for (int i = 0; i < ds.Count; i++)
            {
                var (img, lm) = ds.Render(i);
                var l = ds.Labels(i);
                var rel = $"id{ds.Person(i).Id:D5}/{i % ds.Options.ImagesPerIdentity:D3}.png";
                ImageCodec.Save(img, Path.Combine(dir, rel));
                labels.Add(
                    $"{Csv.Field(rel)},id{ds.Person(i).Id:D5},{l.Expression},"
                        + $"{l.Age.ToString(CultureInfo.InvariantCulture)},{l.Gender}"
                );
                marks.Add(LandmarkCsv.Row(rel, FaceLandmarks.FromXY(lm)));
                bar.Update(i + 1);
            }
        AtomicFile.WriteAllText(Path.Combine(dir, "labels.csv"), string.Join('\n', labels) + "\n");
        AtomicFile.WriteAllText(Path.Combine(dir, "landmarks.csv"), string.Join('\n', marks) + "\n");
    }

    /// <summary>A contact sheet: one row per identity, at most 8 × 8 faces.</summary>
    public static void Grid(SyntheticFaces ds, string path)
    {
        int rows = Math.Min(8, ds.Options.Identities),
            cols = Math.Min(8, ds.Options.ImagesPerIdentity),
            s = ds.Options.Size;
        using var sheet = new SKBitmap(cols * s, rows * s);
        using (var canvas = new SKCanvas(sheet))
            for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                using var face = ImageCodec.ToBitmap(ds.Image(r * ds.Options.ImagesPerIdentity + c));
                canvas.DrawBitmap(face, c * s, r * s);
            }
        BitmapFile.Save(sheet, path, jpegQuality: 85);
    }
}
