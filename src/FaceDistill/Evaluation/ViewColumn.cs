using FaceDistill.Data;
using FaceDistill.Faces;

namespace FaceDistill.Evaluation;

/// <summary>
/// An evaluation column of an experiment (its <c>views</c>): a view (<see cref="FaceViews"/>) and, for verification,
/// optionally the sides of every pair it is applied to — <c>occluded:mask@both</c> masks both faces of every pair,
/// <c>occluded:mask@one</c> only the probe (against a clean gallery photo); without a suffix, the runs'
/// <c>eval.pairSides</c>. The embeddings of a view are the same either way: a column with sides costs no more
/// embedding than its view.
/// </summary>
public sealed record ViewColumn(string Name, FaceView View, bool? OneSide)
{
    private static readonly (string Suffix, bool OneSide)[] Sides = [("@both", false), ("@one", true)];

    public static ViewColumn Parse(string column)
    {
        foreach (var (suffix, one) in Sides)
            if (column.EndsWith(suffix, StringComparison.Ordinal))
                return new ViewColumn(column, FaceViews.Parse(column[..^suffix.Length]), one);
        return new ViewColumn(column, FaceViews.Parse(column), null);
    }
}
