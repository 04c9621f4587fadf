#:project ../../src/FaceDistill/FaceDistill.csproj
#:property Nullable=enable
#:property PublishAot=false
// How far aligned crops lie from crops that were aligned to the same ArcFace template at the source (glint6: Glint360K
// ships 112-px crops aligned by InsightFace), per way the face was found (detected, found with a border, centre box).
// docs/results/pool-distillation.md, "A pool aligned by landmarks".
//   dotnet run scripts/analysis/alignment-drift.cs -- ../shared/datasets/glint6 \
//     runs/aligned/glint6 runs/aligned/glint6-pad
// Prints, per aligned folder and way: crops, then the mean and median over them of |Δ| per pixel and channel (0-255).
using FaceDistill.Data;
using FaceDistill.Faces;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: alignment-drift.cs <source folder of aligned crops> <aligned folder>...");
    return 2;
}
var source = args[0];
foreach (var aligned in args[1..])
{
    HashSet<string> Listed(string file) =>
        File.Exists(Path.Combine(aligned, file)) ? [.. File.ReadAllLines(Path.Combine(aligned, file))] : [];
    var padded = Listed("padded.txt");
    var fallback = Listed("fallback.txt");
    var drift = new Dictionary<string, List<double>> { ["detected"] = [], ["padded"] = [], ["fallback"] = [] };
    foreach (var rel in LandmarkCsv.Read(Path.Combine(aligned, "landmarks.csv")).Keys)
    {
        var stem = Path.ChangeExtension(rel, null);
        var folder = Path.Combine(source, Path.GetDirectoryName(rel) ?? "");
        var src = Directory.GetFiles(folder, Path.GetFileName(stem) + ".*");
        if (src.Length == 0)
            continue;
        var original = Path.GetRelativePath(source, src[0]).Replace('\\', '/');
        var a = ImageCodec.Load(Path.Combine(aligned, rel));
        var b = ImageCodec.Load(src[0]);
        if (a.Width != b.Width || a.Height != b.Height)
            continue;
        double d = 0;
        for (int i = 0; i < a.Pixels.Length; i++)
            d += Math.Abs(a.Pixels[i] - b.Pixels[i]);
        var how = padded.Contains(original) ? "padded" : fallback.Contains(original) ? "fallback" : "detected";
        drift[how].Add(d / a.Pixels.Length);
    }
    static string Stats(List<double> v) =>
        $"{v.Count,5} crops, |Δ| mean {v.Average():F1}, median {v.Order().ElementAt(v.Count / 2):F1}";
    Console.WriteLine($"{aligned}: {Stats(drift.Values.SelectMany(v => v).ToList())}");
    foreach (var (how, v) in drift.Where(kv => kv.Value.Count > 0))
        Console.WriteLine($"  {how,-9}{Stats(v)}");
}
return 0;
