using System.IO.MemoryMappedFiles;
using FaceDistill.Core;

namespace FaceDistill.Data;

/// <summary>
/// A float16 matrix <c>[Count, Dim]</c> on disk, memory-mapped: the features of a whole face pool (omni-supervised
/// mining), written once in row order and read in chunks, so memory is bounded by the chunk, not by the pool. Layout:
/// a 64-byte header (<c>FDFS</c>, version, count, dim, rows filled so far, a 32-character key) then the rows. The file
/// is created at its full size up front; <see cref="Append"/> writes the next rows, flushes them, and only then records
/// the new fill count in the header, so a killed extraction reopens with every counted row intact and continues from
/// <see cref="Filled"/>.
/// </summary>
public sealed class FeatureStore : IDisposable
{
    private const int HeaderBytes = 64;
    private const int Version = 1;
    private static readonly byte[] Magic = "FDFS"u8.ToArray();
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;

    public string Path { get; }
    public long Count { get; }
    public int Dim { get; }
    public string Key { get; }

    /// <summary>Rows written and flushed (the rest are not yet computed).</summary>
    public long Filled { get; private set; }
    public bool Complete => Filled == Count;

    private FeatureStore(string path, bool writable)
    {
        Path = path;
        var len = new FileInfo(path).Length;
        if (len < HeaderBytes)
            throw FaceDistillException.ForFile(path, "feature store truncated (delete it to compute it again)");
        var access = writable ? MemoryMappedFileAccess.ReadWrite : MemoryMappedFileAccess.Read;
        _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, access);
        _view = _file.CreateViewAccessor(0, 0, access);
        var magic = new byte[4];
        _view.ReadArray(0, magic, 0, 4);
        if (!magic.SequenceEqual(Magic) || _view.ReadInt32(4) != Version)
        {
            Dispose();
            throw FaceDistillException.ForFile(path, "not a FaceDistill feature store (delete it to compute it again)");
        }
        Count = _view.ReadInt64(8);
        Dim = _view.ReadInt32(16);
        Filled = _view.ReadInt64(20);
        var key = new byte[32];
        _view.ReadArray(28, key, 0, 32);
        Key = System.Text.Encoding.ASCII.GetString(key).TrimEnd('\0');
        if (Dim <= 0 || Count < 0 || Filled < 0 || Filled > Count || len != HeaderBytes + 2L * Count * Dim)
        {
            Dispose();
            throw FaceDistillException.ForFile(
                path,
                $"feature store of {len} bytes does not match its header ({Count} × {Dim}, {Filled} filled): delete "
                    + "it to compute it again"
            );
        }
    }

    /// <summary>Opens the store at <paramref name="path"/> for writing, creating it (empty, at full size) when absent;
    /// an existing store must have the same shape and key.</summary>
    public static FeatureStore OpenOrCreate(string path, long count, int dim, string key)
    {
        if (count <= 0 || dim <= 0)
            throw new ArgumentOutOfRangeException(nameof(count), $"feature store shape {count} × {dim}");
        if (key.Length > 32)
            throw new ArgumentException("key longer than 32 characters", nameof(key));
        if (!File.Exists(path))
            AtomicFile.Write(
                path,
                tmp =>
                {
                    using var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write);
                    var header = new byte[HeaderBytes];
                    Magic.CopyTo(header, 0);
                    BitConverter.GetBytes(Version).CopyTo(header, 4);
                    BitConverter.GetBytes(count).CopyTo(header, 8);
                    BitConverter.GetBytes(dim).CopyTo(header, 16);
                    System.Text.Encoding.ASCII.GetBytes(key).CopyTo(header, 28);
                    fs.Write(header);
                    fs.SetLength(HeaderBytes + 2L * count * dim);
                }
            );
        var store = new FeatureStore(path, writable: true);
        if (store.Count != count || store.Dim != dim || store.Key != key)
        {
            store.Dispose();
            throw FaceDistillException.ForFile(
                path,
                $"feature store holds {store.Count} × {store.Dim} (key {store.Key}), expected {count} × {dim} (key "
                    + $"{key}): delete it to compute it again"
            );
        }
        return store;
    }

    /// <summary>Opens a finished store for reading.</summary>
    public static FeatureStore OpenRead(string path)
    {
        if (!File.Exists(path))
            throw FaceDistillException.ForFile(path, "feature store not found");
        return new FeatureStore(path, writable: false);
    }

    /// <summary>Writes the next <c>rows.Length / Dim</c> rows at <see cref="Filled"/>, flushes them, then advances
    /// the fill count.</summary>
    public void Append(ReadOnlySpan<float> rows)
    {
        if (rows.Length % Dim != 0)
            throw new ArgumentException($"{rows.Length} values are not whole rows of {Dim}");
        long n = rows.Length / Dim;
        if (Filled + n > Count)
            throw new InvalidOperationException($"{Path}: {Filled} + {n} rows exceed the store's {Count}");
        var half = new Half[rows.Length];
        for (int i = 0; i < rows.Length; i++)
            half[i] = (Half)rows[i];
        _view.WriteArray(HeaderBytes + 2L * Filled * Dim, half, 0, half.Length);
        _view.Flush();
        Filled += n;
        _view.Write(20, Filled);
        _view.Flush();
    }

    /// <summary>Rows <c>[start, start + count)</c> as float32, into <paramref name="dest"/> (count × Dim).</summary>
    public void Read(long start, int count, Span<float> dest)
    {
        if (start < 0 || count < 0 || start + count > Filled)
            throw new ArgumentOutOfRangeException(nameof(start), $"rows {start}+{count} of {Filled} filled");
        var half = new Half[count * Dim];
        _view.ReadArray(HeaderBytes + 2L * start * Dim, half, 0, half.Length);
        for (int i = 0; i < half.Length; i++)
            dest[i] = (float)half[i];
    }

    /// <summary>One row as float32.</summary>
    public float[] Row(long index)
    {
        var r = new float[Dim];
        Read(index, 1, r);
        return r;
    }

    public void Dispose()
    {
        _view.Dispose();
        _file.Dispose();
    }
}
