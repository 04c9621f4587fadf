using FaceDistill.Data;
using static TorchSharp.torch;

namespace FaceDistill.Distillation.Teachers;

/// <summary>Runs a teacher on a batch's view once per step, shared by every term that needs it — or, with a
/// <see cref="TeacherOutputCache"/>, reads the batch's rows from it instead of running the teacher. With
/// <see cref="CentroidLogits"/>, an embedding-only teacher gets class logits from its embedding.</summary>
public sealed class OnlineTeacher(
    ITeacher teacher,
    string view = "clean",
    TeacherOutputCache? cache = null,
    CentroidLogits? centroids = null
) : IDisposable
{
    private long _step = -1;
    private TeacherOutputs? _outputs;

    public ITeacher Teacher { get; } = teacher;

    /// <summary>Classes of the logits <see cref="For"/> yields: the teacher's own, else its centroid logits'.</summary>
    public int Classes => Teacher.Classes > 0 ? Teacher.Classes : centroids?.Classes ?? 0;

    /// <summary>The teacher's mean embedding over the whole training set when it is cached, else null.</summary>
    public float[]? CachedMeanEmbedding() => cache?.MeanEmbedding();

    /// <summary>Every cached embedding of the training set, <c>[N, D]</c> in sample order, when the teacher is cached
    /// and embeds, else null.</summary>
    public Tensor? CachedEmbeddings()
    {
        if (cache is null || cache.EmbeddingSize == 0)
            return null;
        var rows = cache.Rows([.. Enumerable.Range(0, cache.Count)]);
        rows.Logits?.Dispose();
        return rows.Embedding;
    }

    /// <summary>The teacher's embedding of the batch (<see cref="For"/>); an error naming the teacher when it gives
    /// none.</summary>
    public Tensor EmbeddingFor(Batch batch, long step) =>
        For(batch, step).Embedding
        ?? throw new Core.FaceDistillException($"teacher {Teacher.Name} produces no embedding");

    public TeacherOutputs For(Batch batch, long step)
    {
        if (_step == step && _outputs is not null)
            return _outputs;
        if (cache is not null)
        {
            _outputs = WithCentroidLogits(OnDevice(cache.Rows(batch.Indices)));
            _step = step;
            return _outputs;
        }
        using var images = batch.Tensor(view);
        // teachers run on the CPU; their outputs go to the student's device. Created inside the trainer's step scope:
        // freed with the step's tensors
        using var onCpu = Core.ComputeDevice.OnCpu(images);
        _outputs = WithCentroidLogits(OnDevice(Teacher.Run(onCpu)));
        _step = step;
        return _outputs;
    }

    private static TeacherOutputs OnDevice(TeacherOutputs o) =>
        Core.ComputeDevice.IsCpu
            ? o
            : o with
            {
                Embedding = o.Embedding is null ? null : Core.ComputeDevice.OnDevice(o.Embedding),
                Logits = o.Logits is null ? null : Core.ComputeDevice.OnDevice(o.Logits),
            };

    private TeacherOutputs WithCentroidLogits(TeacherOutputs o) =>
        o.Logits is null && o.Embedding is not null && centroids is not null
            ? o with
            {
                Logits = centroids.Logits(o.Embedding),
            }
            : o;

    public void Dispose()
    {
        Teacher.Dispose();
        cache?.Dispose();
        centroids?.Dispose();
    }
}
