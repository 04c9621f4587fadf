using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FaceDistill.Core;
using SkiaSharp;

namespace FaceDistill.Data;

/// <summary>One folder of a <see cref="FacePool"/>: its images (recursively), a name for reports, and optionally the
/// known label of an image from its path relative to the folder (e.g. FER2013's class folders) — kept for measuring,
/// never for training.</summary>
public sealed record PoolSource(string Folder, string Name, Func<string, string?>? KnownLabel = null)
{
    /// <summary>A folder as a source named after its last path component.</summary>
    public static PoolSource Of(string folder) => new(folder, Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/')));
}

/// <summary>One image of the pool's manifest.</summary>
public sealed record PoolItem(
    string Path,
    string Source,
    long Bytes,
    int Width,
    int Height,
    string Sha256,
    string? KnownLabel
);

/// <summary>An image the scan could not use, and why.</summary>
public sealed record PoolSkip(string Path, string Reason);

/// <summary>
/// A large pool of face images without labels (label-free distillation, omni-supervised mining): any number of image
/// folders scanned once into a manifest — path, file size, image size (read from the header, not decoded), SHA-256 of
/// the content, the known label where a source gives one — written atomically under a cache folder and keyed by the
/// folders' file lists, so a later run reads it instead of scanning again. Files that are not images or whose header
/// cannot be read are skipped and listed with their paths. As an <see cref="IFaceDataset"/> the pool streams through
/// the <see cref="DataLoader"/>: batches decoded in the background a bounded number ahead (memory bounded by the
/// batch size and the worker count, not by the pool), in a deterministic order for a seed.
/// </summary>
public sealed class FacePool : IFaceDataset
{
    private const int ManifestVersion = 2; // 2: PGM files (ORL) are read, not skipped
    private readonly List<PoolItem> _items;

    public IReadOnlyList<PoolItem> Items => _items;
    public IReadOnlyList<PoolSkip> Skipped { get; }
    public string ManifestPath { get; }

    /// <summary>True when this open scanned the folders (false: the manifest was read).</summary>
    public bool WasScanned { get; }

    private FacePool(List<PoolItem> items, List<PoolSkip> skipped, string manifest, bool scanned)
    {
        _items = items;
        Skipped = skipped;
        ManifestPath = manifest;
        WasScanned = scanned;
    }

    /// <summary>The pool of <paramref name="sources"/>: its manifest from <paramref name="cacheDir"/>, or scanned now
    /// (with progress) and written there.</summary>
    public static FacePool Open(IReadOnlyList<PoolSource> sources, string cacheDir)
    {
        if (sources.Count == 0)
            throw new FaceDistillException("a face pool needs at least one folder");
        var files = sources.Select(s => (Source: s, Files: ImageFolder.List(s.Folder, allowFile: false))).ToList();
        var manifest = Path.Combine(cacheDir, $"pool-v{ManifestVersion}-{Key(files)}.json");
        if (File.Exists(manifest))
            return Read(manifest);
        var items = new List<PoolItem>();
        var skipped = new List<PoolSkip>();
        using (var bar = Progress.Start("face pool scan", files.Sum(f => f.Files.Count)))
        {
            int done = 0;
            foreach (var (source, list) in files)
            foreach (var f in list)
            {
                if (Scan(source, f, out var reason) is { } item)
                    items.Add(item);
                else
                    skipped.Add(new PoolSkip(f, reason));
                bar.Update(++done);
            }
        }
        if (items.Count == 0)
            throw FaceDistillException.ForFile(sources[0].Folder, "the face pool holds no readable image");
        var json = JsonSerializer.Serialize(new Manifest(ManifestVersion, items, skipped));
        Directory.CreateDirectory(cacheDir);
        AtomicFile.WriteAllText(manifest, json);
        return new FacePool(items, skipped, manifest, scanned: true);
    }

    private sealed record Manifest(int Version, List<PoolItem> Items, List<PoolSkip> Skipped);

    private static FacePool Read(string path)
    {
        Manifest? m;
        try
        {
            m = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(path));
        }
        catch (JsonException)
        {
            m = null;
        }
        if (m is null || m.Version != ManifestVersion)
            throw FaceDistillException.ForFile(path, "not a FaceDistill face-pool manifest (delete it to scan again)");
        return new FacePool(m.Items, m.Skipped, path, scanned: false);
    }

    /// <summary>What the manifest depends on: every file's path, size and modification time, and each source's
    /// name.</summary>
    private static string Key(IEnumerable<(PoolSource Source, List<string> Files)> files)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (source, list) in files)
        {
            sha.AppendData(Encoding.UTF8.GetBytes($"{source.Name}\n{Path.GetFullPath(source.Folder)}\n"));
            foreach (var f in list)
            {
                var fi = new FileInfo(f);
                sha.AppendData(Encoding.UTF8.GetBytes($"{f}|{fi.Length}|{fi.LastWriteTimeUtc.Ticks}\n"));
            }
        }
        return Convert.ToHexString(sha.GetHashAndReset())[..20].ToLowerInvariant();
    }

    /// <summary>The manifest row of one file: its header read without decoding the pixels; null when it is no
    /// image.</summary>
    private static PoolItem? Scan(PoolSource source, string file, out string reason)
    {
        reason = "not a readable image";
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (IOException)
        {
            return null;
        }
        int width,
            height;
        if (Path.GetExtension(file).Equals(".pgm", StringComparison.OrdinalIgnoreCase))
        {
            // Skia does not read PGM (ORL's faces): the small file is decoded to learn its size
            try
            {
                var img = ImageCodec.DecodePgm(bytes, file);
                (width, height) = (img.Width, img.Height);
            }
            catch (FaceDistillException)
            {
                return null;
            }
        }
        else
        {
            using var data = SKData.CreateCopy(bytes);
            using var codec = SKCodec.Create(data);
            if (codec is null || codec.Info.Width <= 0 || codec.Info.Height <= 0)
                return null;
            (width, height) = (codec.Info.Width, codec.Info.Height);
        }
        if ((long)width * height > ImageCodec.MaxPixels)
        {
            reason = $"header claims {width}×{height} pixels, over the limit of {ImageCodec.MaxPixels:N0}";
            return null;
        }
        var rel = Path.GetRelativePath(source.Folder, file).Replace('\\', '/');
        return new PoolItem(
            file,
            source.Name,
            bytes.Length,
            width,
            height,
            Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant(),
            source.KnownLabel?.Invoke(rel)
        );
    }

    /// <summary>Items with the same content (the same SHA-256) beyond the first, e.g. a face in two datasets.</summary>
    public int Duplicates => _items.Count - _items.Select(i => i.Sha256).Distinct().Count();

    /// <summary>The pool without duplicate content: the first of each SHA-256, in manifest order.</summary>
    public IFaceDataset Distinct()
    {
        var seen = new HashSet<string>();
        return new SubsetDataset(this, Enumerable.Range(0, Count).Where(i => seen.Add(_items[i].Sha256)).ToArray());
    }

    /// <summary>A seeded random part of the pool (a fraction of it: the pool-size curve).</summary>
    public IFaceDataset Fraction(double fraction, int seed)
    {
        if (!(fraction > 0 && fraction <= 1))
            throw new FaceDistillException($"pool fraction must be in (0, 1], found {fraction}");
        var order = Seeds.Permutation(Count, Seeds.Derive(seed, 0x9001));
        return new SubsetDataset(this, order.Take(Math.Max(1, (int)Math.Round(Count * fraction))).Order().ToArray());
    }

    public int Count => _items.Count;

    public int ClassCount(FaceTask task) => 0;

    public FaceLabels Labels(int index) => new();

    public RgbImage Image(int index) => ImageCodec.Load(_items[index].Path);

    public string Describe(int index) => _items[index].Path;
}
