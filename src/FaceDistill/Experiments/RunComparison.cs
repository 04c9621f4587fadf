using FaceDistill.Core;
using FaceDistill.Evaluation;
using FaceDistill.Runs;

namespace FaceDistill.Experiments;

/// <summary>
/// <c>facedistill compare</c>: trained runs evaluated on the same items — the first (baseline) run's evaluation data —
/// so every row is paired with the baseline (<see cref="Comparison"/>).
/// </summary>
public static class RunComparison
{
    public static List<ComparisonRow> Compare(IReadOnlyList<string> runDirs)
    {
        if (runDirs.Count < 2)
            throw new FaceDistillException("compare needs at least two run directories (the first is the baseline)");
        using var baseline = TrainedRun.Load(runDirs[0]);
        var evaluate =
            Protocols.For(baseline.Config, baseline.Task, baseline.Data).Evaluate
            ?? throw new FaceDistillException($"{runDirs[0]}: its config has nothing to evaluate on");
        var results = new List<(string, EvalReport)> { (NameOf(runDirs[0]), evaluate(baseline.Model)) };
        foreach (var d in runDirs.Skip(1))
        {
            using var other = TrainedRun.Load(d);
            if (other.Task != baseline.Task)
                throw FaceDistillException.ForFile(d, $"task {other.Task} differs from the baseline's {baseline.Task}");
            results.Add((NameOf(d), evaluate(other.Model)));
        }
        return Comparison.Against(results);
    }

    private static string NameOf(string runDir) => Path.GetFileName(runDir.TrimEnd('/'));
}
