using System.Text;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Faces.Zoo;

namespace FaceDistill.Faces;

/// <summary>
/// Gives a file dataset its 68 landmarks (what occluders are placed by: computed once per dataset, stored
/// beside it): from a landmarks CSV (<c>path,x0,y0…x67,y67</c>, paths relative to the CSV), or <c>zoo</c> — face-api's
/// 68-point net run on each whole image, taken as the face crop (FER2013, UTKFace, CelebA crops are face crops), cached
/// as a CSV under the cache folder keyed by the file list, their sizes and the net, so later runs read it.
/// </summary>
public static class DatasetLandmarks
{
    /// <summary>The landmark spec that computes them with the zoo's net.</summary>
    public const string Zoo = "zoo";

    /// <summary>Where zoo landmarks of datasets are cached (relative to the working directory).</summary>
    public static readonly string DefaultCacheDir = Path.Combine("runs", ".landmarks");

    public static IFaceDataset Attach(IFaceDataset data, string spec, string? cacheDir = null, string? zooHome = null)
    {
        cacheDir ??= DefaultCacheDir;
        var paths = Enumerable.Range(0, data.Count).Select(i => Path.GetFullPath(data.Describe(i))).ToArray();
        string csv = spec == Zoo ? ComputeOrReuse(paths, cacheDir, zooHome) : spec;
        var map = LandmarkCsv.Read(csv);
        var root = Path.GetDirectoryName(Path.GetFullPath(csv))!;
        var byFull = map.ToDictionary(kv => Path.GetFullPath(Path.Combine(root, kv.Key)), kv => kv.Value);
        var lms = paths.Select(p => byFull.TryGetValue(p, out var l) ? l.ToXY() : null).ToArray();
        int found = lms.Count(l => l is not null);
        if (found == 0)
            throw FaceDistillException.ForFile(
                csv,
                $"none of the dataset's {paths.Length} images is listed (paths are relative to the CSV's folder)"
            );
        if (found < paths.Length)
            Log.Info(
                $"note: {csv} has landmarks for {found} of {paths.Length} images; occluded views of the others fail"
            );
        return new WithLandmarks(data, lms);
    }

    private static string ComputeOrReuse(string[] paths, string cacheDir, string? zooHome)
    {
        var key = new StringBuilder("lm68-wholeimage-v1\n");
        foreach (var p in paths)
            key.Append(p).Append('|').Append(File.Exists(p) ? new FileInfo(p).Length : -1).Append('\n');
        string hash = TextHash.Sha256Hex(key.ToString(), 16);
        string csv = Path.Combine(cacheDir, $"landmarks-{hash}.csv");
        if (File.Exists(csv))
            return csv;
        Directory.CreateDirectory(cacheDir);
        using var analyzer = new FaceAnalyzer(zooHome);
        var net = analyzer.Landmarks;
        var rows = new List<string>(paths.Length + 1) { LandmarkCsv.Header };
        const int batch = 64;
        using (var bar = Progress.Start("landmarks", paths.Length))
            for (int s = 0; s < paths.Length; s += batch)
            {
                var chunk = paths
                    .Skip(s)
                    .Take(batch)
                    .Select(p => (p, img: TryLoad(p)))
                    .Where(t => t.img is not null)
                    .ToList();
                // one batch per image size (the net's input pads each crop to a square by its own size)
                foreach (var group in chunk.GroupBy(t => (t.img!.Width, t.img.Height)))
                {
                    var imgs = group.Select(t => t.img!).ToList();
                    using var x = NetInput.ToBatch(
                        imgs,
                        FaceLandmark68Net.InputSize,
                        centered: true,
                        ZooNormalization.FaceMean
                    );
                    using var fc = Core.NativeRetry.Run(() => net.Forward(x));
                    var raw = fc.data<float>().ToArray();
                    int k = 0;
                    foreach (var (p, img) in group)
                    {
                        var rect = new CropRect(0, 0, img!.Width, img.Height);
                        rows.Add(
                            LandmarkCsv.Row(
                                Path.GetRelativePath(cacheDir, p).Replace('\\', '/'),
                                FaceLandmarks.FromNetOutput(
                                    raw.AsSpan(k++ * 136, 136),
                                    rect,
                                    new FaceBox(0, 0, img.Width, img.Height)
                                )
                            )
                        );
                    }
                }
                bar.Update(Math.Min(paths.Length, s + batch));
            }
        AtomicFile.WriteAllText(csv, string.Join('\n', rows) + "\n");
        return csv;
    }

    private static RgbImage? TryLoad(string path)
    {
        try
        {
            return ImageCodec.Load(path);
        }
        catch (FaceDistillException)
        {
            return null;
        } // undecodable: no landmarks; the loader's bad-image policy decides
    }

    private sealed class WithLandmarks(IFaceDataset inner, float[]?[] landmarks) : IFaceDataset
    {
        public int Count => inner.Count;

        public int ClassCount(FaceTask task) => inner.ClassCount(task);

        public FaceLabels Labels(int index) =>
            landmarks[index] is { } l ? inner.Labels(index) with { Landmarks = l } : inner.Labels(index);

        public RgbImage Image(int index) => inner.Image(index);

        public string Describe(int index) => inner.Describe(index);
    }
}
