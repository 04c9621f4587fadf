using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Distillation;

/// <summary>
/// Knowledge distillation (Hinton, Vinyals, Dean — "Distilling the Knowledge in a Neural Network", 2015): the student's
/// class distribution at temperature T is pulled to the teacher's,
/// <code>
///   L_KD = T² · mean_i KL(softmax(z_t,i / T) ‖ softmax(z_s,i / T))
/// </code>
/// the whole of <see cref="GroupedKlDecomposition"/>'s sum (Binary + b_P·Primary + b_S·Secondary). Config entry:
/// <c>kd</c>, in <see cref="TeacherStudentKd"/> (Georgescu et al.'s teacher–student training, of which it is the
/// classification loss).
/// </summary>
public static class HintonKd
{
    public static Tensor Loss(Tensor teacherLogits, Tensor studentLogits, double temperature)
    {
        using var scope = NewDisposeScope();
        var logPt = nn.functional.log_softmax(teacherLogits.detach() / temperature, 1);
        var logPs = nn.functional.log_softmax(studentLogits / temperature, 1);
        var kl = (logPt.exp() * (logPt - logPs)).sum(1).mean() * (temperature * temperature);
        return kl.MoveToOuterDisposeScope();
    }
}
