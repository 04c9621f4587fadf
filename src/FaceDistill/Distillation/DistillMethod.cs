using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Distillation.Teachers;

namespace FaceDistill.Distillation;

/// <summary>What a distillation method reads from its teacher.</summary>
public enum TeacherOutput
{
    /// <summary>No teacher (DDL: the easy branch is the student itself).</summary>
    None,

    /// <summary>Logits over the student's classes (an embedding-only teacher gets centroid logits); for the age task
    /// the teacher's predicted age.</summary>
    Logits,

    /// <summary>The teacher's embedding.</summary>
    Embedding,
}

/// <summary>What a method's term is built from: the teacher (null for methods without one) and the student's
/// shape.</summary>
/// <param name="Extra">the method's further teachers, by the key that names them (<see
/// cref="DistillMethod.TeacherKeys"/>), each cached over the training set</param>
public sealed record TermContext(
    OnlineTeacher? Teacher,
    int Classes,
    int EmbeddingSize,
    FaceTask Task,
    IReadOnlyDictionary<string, OnlineTeacher>? Extra = null
)
{
    public OnlineTeacher RequireTeacher(string method) =>
        Teacher ?? throw new FaceDistillException($"distill.method '{method}' needs a teacher (distill.teacher)");

    /// <summary>The further teacher named by <c>distill.&lt;key&gt;</c>, null when the key is not set.</summary>
    public OnlineTeacher? ExtraTeacher(string key) => Extra?.GetValueOrDefault(key);
}

/// <summary>
/// One distillation method, as a config selects it (<c>distill.method</c>): its name, the paper, the <c>distill.*</c>
/// keys it reads with their defaults (stated here once; a key it does not read is rejected), what it needs from a
/// teacher, its own checks, and the factory of its <see cref="IObjectiveTerm"/>. Each method's file defines its entry
/// beside its loss; <see cref="DistillationMethods.Registry"/> lists them.
/// </summary>
public sealed record DistillMethod : INamed
{
    public required string Name { get; init; }

    /// <summary>The paper the method implements (for docs and messages).</summary>
    public required string Paper { get; init; }
    public required TeacherOutput Teacher { get; init; }

    /// <summary>The method's own keys under <c>distill.</c>, each with its default (null: optional, no default): the
    /// one place they are declared.</summary>
    public IReadOnlyList<MethodKey> Keys { get; init; } = [];

    /// <summary>Those of <see cref="Keys"/> whose value names a further teacher (a spec as <c>distill.teacher</c>'s):
    /// each is checked like it, built, and its embeddings of the training set cached, before the term is created
    /// (<see cref="TermContext.ExtraTeacher"/>).</summary>
    public IReadOnlyList<TextKey> TeacherKeys { get; init; } = [];

    /// <summary>Keys of <see cref="Keys"/> that are read only when another is set (key → the key it needs): given
    /// with a value other than its default while the other is not, the key is an error naming both, not silently
    /// unused.</summary>
    public IReadOnlyDictionary<string, string> Needs { get; init; } = new Dictionary<string, string>();

    /// <summary>Checks of the resolved config beyond the keys' types (ranges, the task, the head).</summary>
    public Action<RunSettings, ConfigChecks> Validate { get; init; } = (_, _) => { };

    /// <summary>The term, from the resolved <c>distill</c> section (every key of the method set).</summary>
    public required Func<DistillConfig, TermContext, IObjectiveTerm> Create { get; init; }

    public bool NeedsTeacher => Teacher != TeacherOutput.None;
}
