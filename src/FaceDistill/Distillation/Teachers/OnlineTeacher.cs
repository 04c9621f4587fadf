using FaceDistill.Data;
using static TorchSharp.torch;

namespace FaceDistill.Distillation.Teachers;

/// <summary>Runs a teacher on a batch's view once per step, shared by every term that needs it — or, with a
/// <see cref="TeacherOutputCache"/>, reads the batch's rows from it instead of running the teacher.</summary>
public sealed class OnlineTeacher(ITeacher teacher, string view = "clean", TeacherOutputCache? cache = null) : IDisposable
{
    private long _step = -1;
    private TeacherOutputs? _outputs;

    public ITeacher Teacher { get; } = teacher;

    public TeacherOutputs For(Batch batch, long step)
    {
        if (_step == step && _outputs is not null) return _outputs;
        if (cache is not null)
        {
            _outputs = cache.Rows(batch.Indices);
            _step = step;
            return _outputs;
        }
        using var images = batch.Tensor(view);
        _outputs = Teacher.Run(images); // created inside the trainer's step scope: freed with the step's tensors
        _step = step;
        return _outputs;
    }

    public void Dispose() { Teacher.Dispose(); cache?.Dispose(); }
}
