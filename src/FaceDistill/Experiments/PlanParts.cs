using System.Text.Json.Nodes;

namespace FaceDistill.Experiments;

/// <summary>One run of an experiment: a name and the keys it sets on the base config. A reference run (e.g. the teacher
/// trained on full faces) runs once, with the first seed, and is reported without a p-value. A run with a <see
/// cref="Teacher"/> (e.g. <c>zoo:recognition</c>) trains nothing: that teacher's embeddings are evaluated as a
/// reference row, on the images the students' teacher sees. <see cref="Against"/> names the run its p-values are
/// computed against when that is not the experiment's baseline (e.g. a distilled MobileFaceNet against MobileFaceNet
/// alone, in a table whose baseline is another student; or a student against its teacher's reference row).</summary>
public sealed record PlanRun(
    string Name,
    IReadOnlyList<(string Key, JsonNode? Value)> Set,
    bool Reference,
    string? Teacher = null,
    string? Against = null
);

/// <summary>Georgescu et al.'s combination: the embeddings of these runs (same seed) concatenated, a linear model on
/// top. <see cref="Against"/>: the run its p-values are computed against (plan key <c>baseline</c>, e.g. the teacher's
/// reference row: does the combination beat the teacher?), else the experiment's baseline.</summary>
public sealed record PlanCombination(string Name, IReadOnlyList<string> Of, string? Against = null);

/// <summary>A data-preparation step of an experiment: <c>facedistill align</c> of <see cref="Input"/> into <see
/// cref="Out"/> (ArcFace-aligned crops + landmarks.csv), run once before the first training run and skipped when
/// <c>Out</c> already holds its landmarks.csv. <see cref="Pad"/> and <see cref="FallbackBox"/>: what <see
/// cref="Faces.DatasetAligner"/> does where the detector finds no face. <see cref="AlignFrom"/>: keypoints (a face
/// BlazeFace found aligned from its keypoints) or landmarks (from the 68).</summary>
public sealed record AlignStep(
    string Input,
    string Out,
    string? Landmarks,
    int Size,
    string Detector,
    double MinScore,
    double FallbackBox,
    double Pad = 0,
    string AlignFrom = "keypoints"
)
{
    public bool Done => File.Exists(System.IO.Path.Combine(Out, "landmarks.csv"));

    /// <summary>True for paths inside <see cref="Out"/> (which the step creates).</summary>
    public bool Creates(string path)
    {
        var o = System.IO.Path.GetFullPath(Out).TrimEnd('/', '\\');
        var p = System.IO.Path.GetFullPath(path).TrimEnd('/', '\\');
        return p == o || p.StartsWith(o + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }
}
