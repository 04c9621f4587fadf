using FaceDistill.Data;
using static TorchSharp.torch;

namespace FaceDistill.Distillation;

/// <summary>
/// <see cref="DistributionDistillationLoss"/> as a training term (Huang et al., 2020): the easy branch is the student on
/// the clean view, the hard branch the same network on a degraded view of the same faces (e.g. <c>lowres:16</c>). The term
/// adds the margin loss of the hard branch (the paper trains both branches with it; the clean one already has it as the
/// task loss) and L_DDL between the two similarity distributions.
/// </summary>
public sealed class DistributionDistillationTerm(string hardView, double weight = 1, DdlOptions? options = null) : IObjectiveTerm
{
    public string Name => "ddl";
    public IReadOnlyList<string> Views => [hardView];
    public IEnumerable<TorchSharp.Modules.Parameter> Parameters => [];
    public double Weight(StepContext ctx) => weight;

    public Tensor Compute(StudentOutputs student, Batch batch, StepContext ctx)
    {
        var hard = student.EmbedView(hardView);
        var hardTask = student.TaskLoss(hard);
        var ddl = DistributionDistillationLoss.Loss(student.Embedding, student.Labels, hard, student.Labels, options, out _);
        return hardTask + ddl;
    }
}
