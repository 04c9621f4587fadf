using System.CommandLine;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Data.Synthetic;
using FaceDistill.Faces;
using FaceDistill.Faces.Occlusion;
using FaceDistill.Training;

namespace FaceDistill.Cli;

/// <summary><c>facedistill occlude</c>: occluded copies of a folder of faces, and a contact sheet of every occluder.</summary>
internal static class OcclusionCommands
{
    public static Command Occlude()
    {
        var input = new Argument<string>("input") { Description = "A folder of face images (with landmarks), or 'synthetic'" };
        var landmarks = new Option<string?>("--landmarks") { Description = "Landmarks CSV (default: <input>/landmarks.csv); 'zoo': face-api's landmark net on each whole image (face crops); 'detect': every face the tiny detector finds (photos)" };
        var occluder = new Option<string>("--occluder") { Description = "mask, mask:surgical, mask:n95, mask:cloth, vr, sunglasses", DefaultValueFactory = _ => "mask" };
        var outDir = new Option<string?>("--out") { Description = "Write an occluded copy of every image here (same relative paths)" };
        var grid = new Option<string?>("--grid") { Description = "Write a contact sheet (rows: faces; columns: clean and every occluder) to this PNG/JPEG" };
        var faces = new Option<int>("--faces") { Description = "Rows of the contact sheet", DefaultValueFactory = _ => 6 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var cmd = new Command("occlude", "Draw synthetic occluders (face masks, VR headset, sunglasses) from the 68 landmarks")
            { input, landmarks, occluder, outDir, grid, faces, seed, Commands.QuietOption };
        cmd.SetAction(p => Commands.Guard(() =>
        {
            Commands.Common(p);
            string src = p.GetValue(input)!;
            if (p.GetValue(outDir) is null && p.GetValue(grid) is null) throw new FaceDistillException("nothing to do: give --out and/or --grid");
            var occ = Occluder.Parse(p.GetValue(occluder)!);
            IFaceDataset data;
            Func<int, string> relative;
            if (src != "synthetic" && p.GetValue(landmarks) == "detect") return Detected(src, occ, p.GetValue(outDir), p.GetValue(grid), p.GetValue(faces), p.GetValue(seed));
            if (src == "synthetic")
            {
                var s = new SyntheticFaces(new SyntheticOptions { Identities = 12, ImagesPerIdentity = 4, Size = 128, Seed = p.GetValue(seed) });
                data = s;
                relative = i => $"synthetic_{i:D4}.png";
            }
            else
            {
                if (!Directory.Exists(src)) throw FaceDistillException.ForFile(src, "input folder not found");
                var files = Directory.EnumerateFiles(src, "*", SearchOption.AllDirectories).Where(ImageCodec.IsImagePath).Order(StringComparer.Ordinal)
                    .Select(f => (f, new FaceLabels())).ToList();
                if (files.Count == 0) throw FaceDistillException.ForFile(src, "no images found");
                var spec = p.GetValue(landmarks) ?? Path.Combine(src, "landmarks.csv");
                if (spec != "zoo" && !File.Exists(spec)) throw FaceDistillException.ForFile(spec, "landmarks file not found (give --landmarks <csv> or --landmarks zoo)");
                var ds = new FileFaceDataset(src, files, []);
                data = DatasetLandmarks.Attach(ds, spec, Path.Combine("runs", ".landmarks"));
                relative = i => Path.GetRelativePath(src, ds.PathOf(i));
            }
            if (p.GetValue(outDir) is { } dir)
            {
                int written = 0;
                var missing = new List<string>();
                using (var bar = ProgressBar.Start("occlude", data.Count))
                    for (int i = 0; i < data.Count; i++)
                    {
                        var (img, lm) = data.Load(i);
                        if (lm is null) { missing.Add(data.Describe(i)); continue; }
                        var rel = relative(i);
                        ImageCodec.Save(occ.Apply(img, lm, Seeds.Rng(p.GetValue(seed), i)), Path.Combine(dir, rel));
                        written++;
                        bar.Update(i + 1);
                    }
                Console.WriteLine($"wrote {written} images with {occ.Name} to {dir}" + (missing.Count > 0 ? $"; {missing.Count} without landmarks skipped, e.g. {missing[0]}" : ""));
            }
            if (p.GetValue(grid) is { } gridPath)
            {
                var rows = new List<(RgbImage, float[])>();
                var order = Seeds.Permutation(data.Count, p.GetValue(seed));
                foreach (var i in order)
                {
                    if (rows.Count >= p.GetValue(faces)) break;
                    var (img, lm) = data.Load(i);
                    if (lm is not null) rows.Add((img, lm));
                }
                using var sheet = OcclusionGrid.Draw(rows, Occluder.All, seed: p.GetValue(seed));
                ImageCodec.SaveBitmap(sheet, gridPath, jpegQuality: 88);
                Console.WriteLine($"wrote {gridPath} ({rows.Count} faces × clean + {string.Join(", ", Occluder.All)})");
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary>Photos with any number of faces: tiny face detector → 68 landmarks per face → occluders on every face.</summary>
    private static int Detected(string src, Occluder occ, string? outDir, string? gridPath, int maxFaces, int seed)
    {
        if (!Directory.Exists(src)) throw FaceDistillException.ForFile(src, "input folder not found");
        var files = Directory.EnumerateFiles(src, "*", SearchOption.AllDirectories).Where(ImageCodec.IsImagePath).Order(StringComparer.Ordinal).ToList();
        using var zoo = new FaceAnalyzer { Detector = FaceDetectorKind.Tiny };
        var rows = new List<(RgbImage, float[])>();
        int written = 0, found = 0;
        using (var bar = ProgressBar.Start("occlude", files.Count))
            for (int f = 0; f < files.Count; f++)
            {
                var img = ImageCodec.Load(files[f]);
                var lms = zoo.Locate(img, zoo.Detect(img)).Select(l => l.Landmarks.ToXY()).ToList();
                found += lms.Count;
                foreach (var lm in lms) if (rows.Count < maxFaces) rows.Add((img, lm));
                if (outDir is not null && lms.Count > 0)
                {
                    var result = img;
                    for (int k = 0; k < lms.Count; k++) result = occ.Apply(result, lms[k], Seeds.Rng(seed, f, k));
                    ImageCodec.Save(result, Path.Combine(outDir, Path.GetRelativePath(src, files[f])));
                    written++;
                }
                bar.Update(f + 1);
            }
        if (outDir is not null) Console.WriteLine($"wrote {written} images ({found} faces) with {occ.Name} to {outDir}");
        if (gridPath is not null)
        {
            using var sheet = OcclusionGrid.Draw(rows, Occluder.All, seed: seed);
            ImageCodec.SaveBitmap(sheet, gridPath, jpegQuality: 88);
            Console.WriteLine($"wrote {gridPath} ({rows.Count} faces × clean + {string.Join(", ", Occluder.All)})");
        }
        return 0;
    }
}
