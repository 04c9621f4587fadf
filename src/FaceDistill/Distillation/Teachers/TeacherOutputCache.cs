using System.IO.MemoryMappedFiles;
using FaceDistill.Core;
using FaceDistill.Data;
using static TorchSharp.torch;

namespace FaceDistill.Distillation.Teachers;

/// <summary>
/// Teacher outputs for a whole dataset, computed once into a memory-mapped file and reused by every later run. The file
/// name is a hash of (teacher fingerprint, dataset fingerprint, preprocessing), so changing the teacher (its weights
/// file), the data (paths, sizes, modification times, labels) or the preprocessing (size, crop, view) selects a new
/// file: stale outputs are never read. Layout: a 32-byte header (<c>FDTC</c>, version, count, embedding and logit
/// widths) then one float32 row <c>[embedding | logits]</c> per sample. Written to a temp file and renamed.
/// <para>The teacher sees each image once, un-augmented (the student's random crops and flips are not replayed) — the
/// usual price of offline distillation, paid for a teacher that costs nothing per epoch.</para>
/// </summary>
public sealed class TeacherOutputCache : IDisposable
{
    private const int HeaderBytes = 32;
    private static readonly byte[] Magic = "FDTC"u8.ToArray();
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;

    public string Path { get; }
    public int Count { get; }
    public int EmbeddingSize { get; }
    public int LogitSize { get; }
    public bool WasBuilt { get; private set; }
    private int Row => EmbeddingSize + LogitSize;

    private TeacherOutputCache(string path)
    {
        Path = path;
        var len = new FileInfo(path).Length;
        if (len < HeaderBytes)
            throw FaceDistillException.ForFile(path, "teacher cache truncated (delete it to rebuild)");
        _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _view = _file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        var magic = new byte[4];
        _view.ReadArray(0, magic, 0, 4);
        if (!magic.SequenceEqual(Magic) || _view.ReadInt32(4) != 1)
            throw FaceDistillException.ForFile(path, "not a FaceDistill teacher cache (delete it to rebuild)");
        Count = _view.ReadInt32(8);
        EmbeddingSize = _view.ReadInt32(12);
        LogitSize = _view.ReadInt32(16);
        if (len != HeaderBytes + 4L * Count * Row)
            throw FaceDistillException.ForFile(
                path,
                $"teacher cache has {len} bytes, its header promises {HeaderBytes + 4L * Count * Row} (delete it to "
                    + $"rebuild)"
            );
    }

    /// <summary>Hex key of everything the cached outputs depend on.</summary>
    public static string Key(string teacherFingerprint, IFaceDataset data, string preprocessing) =>
        DatasetFingerprint.Of(data, 24, teacherFingerprint, preprocessing);

    /// <summary>Opens the cache for this (teacher, data, preprocessing), computing it first when absent.</summary>
    public static TeacherOutputCache OpenOrBuild(
        ITeacher teacher,
        string teacherFingerprint,
        IFaceDataset data,
        DataLoaderOptions preprocessing,
        string cacheDir
    )
    {
        string prep =
            $"size={preprocessing.ImageSize};crop={preprocessing.CenterCrop};view=clean;teacher={teacher.Name}";
        var path = System.IO.Path.Combine(cacheDir, $"teacher-{Key(teacherFingerprint, data, prep)}.bin");
        bool built = false;
        if (!File.Exists(path))
        {
            Build(teacher, data, preprocessing, path);
            built = true;
        }
        return new TeacherOutputCache(path) { WasBuilt = built };
    }

    private static void Build(ITeacher teacher, IFaceDataset data, DataLoaderOptions preprocessing, string path)
    {
        var loader = new DataLoader(
            data,
            preprocessing with
            {
                Shuffle = false,
                DropLast = false,
                Augment = AugmentOptions.None,
                Views = [FaceView.Clean],
                OnBadImage = BadImagePolicy.Fail,
            }
        );
        float[]? rows = null;
        int emb = 0,
            logits = 0;
        using (var bar = Progress.Start($"teacher cache ({teacher.Name})", data.Count))
        {
            int done = 0;
            foreach (var batch in loader.Epoch(0))
            {
                using var scope = NewDisposeScope();
                using var x = batch.Tensor();
                var o = NativeRetry.Run(() => teacher.Run(x));
                if (rows is null)
                {
                    emb = o.Embedding is null ? 0 : (int)o.Embedding.shape[1];
                    logits = o.Logits is null ? 0 : (int)o.Logits.shape[1];
                    if (emb + logits == 0)
                        throw new FaceDistillException($"teacher {teacher.Name} produced no outputs to cache");
                    rows = new float[(long)data.Count * (emb + logits)];
                }
                var e = o.Embedding?.contiguous().data<float>().ToArray();
                var l = o.Logits?.contiguous().data<float>().ToArray();
                for (int k = 0; k < batch.Count; k++)
                {
                    long at = (long)batch.Indices[k] * (emb + logits);
                    if (e is not null)
                        Array.Copy(e, k * emb, rows, at, emb);
                    if (l is not null)
                        Array.Copy(l, k * logits, rows, at + emb, logits);
                }
                done += batch.Count;
                bar.Update(done);
            }
        }
        var bytes = new byte[HeaderBytes + 4L * rows!.Length];
        Magic.CopyTo(bytes, 0);
        BitConverter.GetBytes(1).CopyTo(bytes, 4);
        BitConverter.GetBytes(data.Count).CopyTo(bytes, 8);
        BitConverter.GetBytes(emb).CopyTo(bytes, 12);
        BitConverter.GetBytes(logits).CopyTo(bytes, 16);
        Buffer.BlockCopy(rows, 0, bytes, HeaderBytes, rows.Length * 4);
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>The mean of the cached embeddings over the whole dataset (null when the teacher gives none).</summary>
    public float[]? MeanEmbedding()
    {
        if (EmbeddingSize == 0 || Count == 0)
            return null;
        var sum = new double[EmbeddingSize];
        var row = new float[Row];
        for (int i = 0; i < Count; i++)
        {
            _view.ReadArray(HeaderBytes + 4L * i * Row, row, 0, Row);
            for (int k = 0; k < EmbeddingSize; k++)
                sum[k] += row[k];
        }
        return sum.Select(v => (float)(v / Count)).ToArray();
    }

    /// <summary>The cached outputs of dataset samples <paramref name="indices"/>.</summary>
    public TeacherOutputs Rows(IReadOnlyList<int> indices)
    {
        var e = new float[indices.Count * EmbeddingSize];
        var l = new float[indices.Count * LogitSize];
        var row = new float[Row];
        for (int k = 0; k < indices.Count; k++)
        {
            if ((uint)indices[k] >= (uint)Count)
                throw new FaceDistillException($"{Path}: sample {indices[k]} outside the cache ({Count} samples)");
            _view.ReadArray(HeaderBytes + 4L * indices[k] * Row, row, 0, Row);
            Array.Copy(row, 0, e, k * EmbeddingSize, EmbeddingSize);
            Array.Copy(row, EmbeddingSize, l, k * LogitSize, LogitSize);
        }
        return new TeacherOutputs(
            EmbeddingSize > 0 ? tensor(e, [indices.Count, EmbeddingSize]) : null,
            LogitSize > 0 ? tensor(l, [indices.Count, LogitSize]) : null
        );
    }

    public void Dispose()
    {
        _view.Dispose();
        _file.Dispose();
    }
}
