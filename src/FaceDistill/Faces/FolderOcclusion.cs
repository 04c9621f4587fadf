using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Data.Synthetic;
using FaceDistill.Faces.Occlusion;
using FaceDistill.Faces.Zoo;

namespace FaceDistill.Faces;

/// <summary>What an occlusion pass over a folder wrote.</summary>
public sealed record OcclusionReport(int Written, int Faces, IReadOnlyList<string> WithoutLandmarks)
{
    /// <summary>Files that could not be decoded (or claimed too many pixels): skipped, with the reason.</summary>
    public IReadOnlyList<string> Unreadable { get; init; } = [];
}

/// <summary>
/// Occluded copies of a set of faces (<c>facedistill occlude</c>) and the rows of a contact sheet. Faces come with
/// their 68 landmarks: the built-in synthetic ones, a folder with a landmarks CSV (or the zoo's landmarks of each whole
/// image), or photos in which the zoo detects every face.
/// </summary>
public static class FolderOcclusion
{
    /// <summary>The landmark spec that detects every face of a photo (tiny detector → 68 landmarks).</summary>
    public const string Detect = "detect";

    /// <summary>A set of faces with landmarks, and the relative path each is written to.</summary>
    public sealed record Faces(IFaceDataset Data, Func<int, string> Relative);

    /// <summary>The built-in synthetic faces (12 identities × 4).</summary>
    public static Faces Synthetic(int seed)
    {
        var s = new SyntheticFaces(
            new SyntheticOptions
            {
                Identities = 12,
                ImagesPerIdentity = 4,
                Size = 128,
                Seed = seed,
            }
        );
        return new Faces(s, i => $"synthetic_{i:D4}.png");
    }

    /// <summary>The images of <paramref name="folder"/> with landmarks from <paramref name="landmarks"/> (a CSV,
    /// default <c>landmarks.csv</c> in the folder, or <c>zoo</c>).</summary>
    public static Faces Folder(string folder, string? landmarks)
    {
        var files = ImageFolder.List(folder, allowFile: false).Select(f => (f, new FaceLabels())).ToList();
        var spec = landmarks ?? Path.Combine(folder, "landmarks.csv");
        if (spec != DatasetLandmarks.Zoo && !File.Exists(spec))
            throw FaceDistillException.ForFile(
                spec,
                "landmarks file not found (give --landmarks <csv> or --landmarks zoo)"
            );
        var ds = new FileFaceDataset(folder, files, []);
        return new Faces(DatasetLandmarks.Attach(ds, spec), i => Path.GetRelativePath(folder, ds.PathOf(i)));
    }

    /// <summary>Writes every face with <paramref name="occluder"/> under <paramref name="outDir"/> (same relative
    /// paths); faces without landmarks are skipped and listed.</summary>
    public static OcclusionReport Write(Faces faces, Occluder occluder, string outDir, int seed)
    {
        int written = 0;
        var missing = new List<string>();
        using var bar = Progress.Start("occlude", faces.Data.Count);
        var unreadable = new List<string>();
        for (int i = 0; i < faces.Data.Count; i++)
        {
            RgbImage img;
            float[]? lm;
            try
            {
                (img, lm) = faces.Data.Load(i);
            }
            catch (FaceDistillException e)
            {
                unreadable.Add(e.Message);
                bar.Update(i + 1);
                continue;
            }
            bar.Update(i + 1);
            if (lm is null)
            {
                missing.Add(faces.Data.Describe(i));
                continue;
            }
            ImageCodec.Save(occluder.Apply(img, lm, Seeds.Rng(seed, i)), Path.Combine(outDir, faces.Relative(i)));
            written++;
        }
        return new OcclusionReport(written, written, missing) { Unreadable = unreadable };
    }

    /// <summary>Up to <paramref name="count"/> faces with landmarks, in a seeded order: the rows of a contact
    /// sheet.</summary>
    public static List<(RgbImage, float[])> SheetRows(Faces faces, int count, int seed)
    {
        var rows = new List<(RgbImage, float[])>();
        foreach (var i in Seeds.Permutation(faces.Data.Count, seed))
        {
            if (rows.Count >= count)
                break;
            try
            {
                var (img, lm) = faces.Data.Load(i);
                if (lm is not null)
                    rows.Add((img, lm));
            }
            catch (FaceDistillException)
            {
                // unreadable files are listed by Write; a contact sheet just uses the next face
            }
        }
        return rows;
    }

    /// <summary>Photos with any number of faces: <paramref name="detector"/> (the tiny one unless told), 68 landmarks
    /// per face, the occluder on every face; written under <paramref name="outDir"/> when given (a photo without a face
    /// is not). <paramref name="sheetRows"/> receives up to <paramref name="maxRows"/> faces for a contact
    /// sheet.</summary>
    public static OcclusionReport Detected(
        string folder,
        Occluder occluder,
        string? outDir,
        int seed,
        int maxRows,
        List<(RgbImage, float[])> sheetRows,
        FaceDetectorKind detector = FaceDetectorKind.Tiny
    )
    {
        var files = ImageFolder.List(folder, allowFile: false);
        using var zoo = new FaceAnalyzer { Detector = detector };
        int written = 0,
            found = 0;
        using var bar = Progress.Start("occlude", files.Count);
        var unreadable = new List<string>();
        for (int f = 0; f < files.Count; f++)
        {
            RgbImage img;
            try
            {
                img = ImageCodec.Load(files[f]);
            }
            catch (FaceDistillException e)
            {
                unreadable.Add(e.Message);
                bar.Update(f + 1);
                continue;
            }
            var lms = zoo.Locate(img, zoo.Detect(img)).Select(l => l.Landmarks.ToXY()).ToList();
            found += lms.Count;
            foreach (var lm in lms)
                if (sheetRows.Count < maxRows)
                    sheetRows.Add((img, lm));
            if (outDir is not null && lms.Count > 0)
            {
                var result = img;
                for (int k = 0; k < lms.Count; k++)
                    result = occluder.Apply(result, lms[k], Seeds.Rng(seed, f, k));
                ImageCodec.Save(result, Path.Combine(outDir, Path.GetRelativePath(folder, files[f])));
                written++;
            }
            bar.Update(f + 1);
        }
        return new OcclusionReport(written, found, []) { Unreadable = unreadable };
    }
}
