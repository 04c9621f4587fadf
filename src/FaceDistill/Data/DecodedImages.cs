using System.Buffers.Binary;
using FaceDistill.Core;
using Microsoft.Win32.SafeHandles;

namespace FaceDistill.Data;

/// <summary>
/// Every image of a file-backed dataset decoded once into RGB bytes at its own size and kept in one file, so that
/// evaluating several models, or one model on several views, on the same images (the LFW pairs of every row of an
/// experiment, in every view) decodes each JPEG or PNG once instead of once per pass — the pre-decoded store FFCV and
/// DALI users know. A pass then only copies bytes and resizes (its rate: <c>bench -- --eval-rate</c>).
/// <para>Layout: a 64-byte header (<c>FDPX</c>, version, image count, a 32-character key), then one 16-byte entry per
/// image (width, height, byte offset; width 0 for an image that could not be decoded, which is then decoded again
/// from its file when asked, so its error names the file as before), then the pixels in index order. Built in chunks
/// of <see cref="Chunk"/> images decoded in parallel and written in order (memory bounded by a chunk), into a
/// temporary file that is renamed into place only when complete: a killed build leaves nothing half-written. The key
/// is <see cref="DatasetFingerprint"/> of the images (names, sizes, modification times), so a changed file selects a
/// new store and a stale one is never read.</para>
/// </summary>
public sealed class DecodedImages : IDisposable
{
    private const int HeaderBytes = 64;
    private const int EntryBytes = 16;
    private const int Version = 1;
    private const int Chunk = 256;
    private static readonly byte[] Magic = "FDPX"u8.ToArray();

    /// <summary>A store larger than this is not built (the images are decoded per pass, as without a store).</summary>
    public const long DefaultMaxBytes = 4L << 30;

    private readonly SafeFileHandle _handle;
    private readonly (int Width, int Height, long Offset)[] _entries;

    public string Path { get; }
    public string Key { get; }
    public int Count => _entries.Length;

    /// <summary>Whether this call decoded the images (false: an existing store was opened).</summary>
    public bool Built { get; }

    private DecodedImages(string path, string key, (int, int, long)[] entries, bool built)
    {
        Path = path;
        Key = key;
        _entries = entries;
        Built = built;
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
    }

    /// <summary>The store of <paramref name="data"/>'s images under <paramref name="dir"/>, built first where there is
    /// none (or the one there is damaged). Null when the dataset is not made of image files (a synthetic one: its
    /// names do not identify its pixels) or its decoded images would exceed <paramref name="maxBytes"/>.</summary>
    public static DecodedImages? OpenOrBuild(
        IFaceDataset data,
        string dir,
        IProgress<int>? progress = null,
        long maxBytes = DefaultMaxBytes
    )
    {
        return IsFileBacked(data) ? OpenOrBuild(data, dir, KeyOf(data), progress, maxBytes) : null;
    }

    /// <summary>Whether every image is a file (a synthetic dataset's names do not identify its pixels).</summary>
    private static bool IsFileBacked(IFaceDataset data) =>
        data.Count > 0 && Enumerable.Range(0, data.Count).All(i => File.Exists(data.Describe(i)));

    private static string KeyOf(IFaceDataset data) => DatasetFingerprint.Of(data, 32, $"decoded-rgb-v{Version}");

    private static DecodedImages? OpenOrBuild(
        IFaceDataset data,
        string dir,
        string key,
        IProgress<int>? progress,
        long maxBytes
    )
    {
        var path = System.IO.Path.Combine(dir, $"{key}.rgb");
        if (TryOpen(path, key, data.Count) is { } existing)
            return existing;
        return Build(data, path, key, progress, maxBytes) ? TryOpen(path, key, data.Count, built: true) : null;
    }

    /// <summary>The decoded image <paramref name="index"/>; null for one that could not be decoded.</summary>
    public RgbImage? Image(int index)
    {
        var (w, h, offset) = _entries[index];
        if (w == 0)
            return null;
        var img = new RgbImage(w, h);
        int read = RandomAccess.Read(_handle, img.Pixels, offset);
        if (read != img.Pixels.Length)
            throw FaceDistillException.ForFile(Path, $"decoded-image store truncated at image {index}: delete it");
        return img;
    }

    /// <summary><paramref name="data"/> with its images served from this store (labels, landmarks and names from
    /// <paramref name="data"/>, which must be the dataset the store was built from).</summary>
    public IFaceDataset Serve(IFaceDataset data)
    {
        if (data.Count != Count)
            throw new ArgumentException($"the store holds {Count} images, the dataset {data.Count}");
        return new Served(data, this);
    }

    /// <summary><paramref name="data"/> served from its store under <paramref name="dir"/>, the store opened (or
    /// built) on the first image asked for — so a run that never evaluates never decodes — and shared by every
    /// dataset of the process with the same key. Where there is no store (<see cref="OpenOrBuild"/> returned null) the
    /// images are decoded from their files as before.</summary>
    public static IFaceDataset ServeLazily(IFaceDataset data, string dir) =>
        new LazilyServed(
            data,
            new Lazy<IFaceDataset>(() =>
            {
                if (!IsFileBacked(data))
                    return data;
                var key = KeyOf(data);
                var store = Open.GetOrAdd(
                    System.IO.Path.GetFullPath(System.IO.Path.Combine(dir, key)),
                    _ => new Lazy<DecodedImages?>(() => OpenOrBuild(data, dir, key, null, DefaultMaxBytes))
                ).Value;
                return store is null ? data : store.Serve(data);
            })
        );

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<DecodedImages?>> Open =
        new();

    public void Dispose() => _handle.Dispose();

    private static DecodedImages? TryOpen(string path, string key, int count, bool built = false)
    {
        if (!File.Exists(path))
            return null;
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            long length = fs.Length;
            var head = new byte[HeaderBytes + (long)EntryBytes * count];
            if (length < head.Length || fs.Read(head, 0, head.Length) != head.Length)
                return null;
            var span = head.AsSpan();
            if (!span[..4].SequenceEqual(Magic) || BinaryPrimitives.ReadInt32LittleEndian(span[4..]) != Version)
                return null;
            if (BinaryPrimitives.ReadInt32LittleEndian(span[8..]) != count)
                return null;
            if (System.Text.Encoding.ASCII.GetString(span.Slice(12, 32)).TrimEnd('\0') != key)
                return null;
            var entries = new (int, int, long)[count];
            long end = head.Length;
            for (int i = 0; i < count; i++)
            {
                var e = span.Slice(HeaderBytes + EntryBytes * i, EntryBytes);
                int w = BinaryPrimitives.ReadInt32LittleEndian(e),
                    h = BinaryPrimitives.ReadInt32LittleEndian(e[4..]);
                long off = BinaryPrimitives.ReadInt64LittleEndian(e[8..]);
                if (w < 0 || h < 0 || (w == 0) != (h == 0) || (w > 0 && off != end))
                    return null;
                end += 3L * w * h;
                entries[i] = (w, h, off);
            }
            return end == length ? new DecodedImages(path, key, entries, built) : null; // else damaged: rebuilt
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static bool Build(IFaceDataset data, string path, string key, IProgress<int>? progress, long maxBytes)
    {
        int n = data.Count;
        try
        {
            AtomicFile.Write(
                path,
                tmp =>
                {
                    using var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write);
                    var head = new byte[HeaderBytes + (long)EntryBytes * n];
                    fs.Write(head); // reserved; the entries are known at the end
                    long offset = head.Length;
                    var images = new RgbImage?[Chunk];
                    for (int start = 0; start < n; start += Chunk)
                    {
                        int count = Math.Min(Chunk, n - start);
                        Parallel.For(
                            0,
                            count,
                            new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
                            k => images[k] = TryDecode(data, start + k)
                        );
                        for (int k = 0; k < count; k++)
                        {
                            var e = head.AsSpan(HeaderBytes + EntryBytes * (start + k), EntryBytes);
                            if (images[k] is { } img)
                            {
                                BinaryPrimitives.WriteInt32LittleEndian(e, img.Width);
                                BinaryPrimitives.WriteInt32LittleEndian(e[4..], img.Height);
                                BinaryPrimitives.WriteInt64LittleEndian(e[8..], offset);
                                fs.Write(img.Pixels);
                                offset += img.Pixels.Length;
                            }
                            images[k] = null;
                        }
                        if (offset > maxBytes)
                            throw new TooLarge(); // the atomic write deletes the unfinished file
                        progress?.Report(start + count);
                    }
                    Magic.CopyTo(head, 0);
                    BinaryPrimitives.WriteInt32LittleEndian(head.AsSpan(4), Version);
                    BinaryPrimitives.WriteInt32LittleEndian(head.AsSpan(8), n);
                    System.Text.Encoding.ASCII.GetBytes(key).CopyTo(head, 12);
                    fs.Position = 0;
                    fs.Write(head);
                }
            );
        }
        catch (TooLarge)
        {
            return false;
        }
        return true;
    }

    private sealed class TooLarge : Exception;

    private static RgbImage? TryDecode(IFaceDataset data, int index)
    {
        try
        {
            return data.Image(index);
        }
        catch (FaceDistillException)
        {
            return null; // asked for later, it is decoded again and fails there, naming its file
        }
    }

    private sealed class LazilyServed(IFaceDataset inner, Lazy<IFaceDataset> served) : IFaceDataset
    {
        public int Count => inner.Count;

        public int ClassCount(FaceTask task) => inner.ClassCount(task);

        public FaceLabels Labels(int index) => inner.Labels(index);

        public RgbImage Image(int index) => served.Value.Image(index);

        public string Describe(int index) => inner.Describe(index);
    }

    private sealed class Served(IFaceDataset inner, DecodedImages store) : IFaceDataset
    {
        public int Count => inner.Count;

        public int ClassCount(FaceTask task) => inner.ClassCount(task);

        public FaceLabels Labels(int index) => inner.Labels(index);

        public RgbImage Image(int index) => store.Image(index) ?? inner.Image(index);

        public string Describe(int index) => inner.Describe(index);
    }
}
