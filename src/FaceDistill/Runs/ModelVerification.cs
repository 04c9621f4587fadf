using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Evaluation;
using FaceDistill.Faces;

namespace FaceDistill.Runs;

/// <summary>What <see cref="ModelVerification.Verify"/> verifies on: a pair list in LFW's format over an image folder,
/// the images' 68 landmarks (a CSV or "zoo"; occluded views need them), the view and whether it degrades one side of
/// every pair or both, the centre crop and flip test-time augmentation; or, for the raw-photo protocol, a second
/// folder of the same images aligned from occluded photos (<see cref="OccludedImages"/>).</summary>
public sealed record ModelVerificationOptions(
    string Pairs,
    string Images,
    string? Landmarks = null,
    string View = "clean",
    bool OneSide = false,
    double CenterCrop = 1.0,
    bool Flip = true,
    int BatchSize = 64
)
{
    /// <summary>The raw-photo protocol: the pair images aligned from occluded photos (same relative paths as
    /// <see cref="Images"/>); one side (the second image of every pair) or both sides are read from here.</summary>
    public string? OccludedImages { get; init; }
}

/// <summary>
/// A model that is not a run — an exported ONNX file (one student, or a combination exported as one graph), a zoo
/// teacher — verified as it is, by the protocol a run's evaluation uses (10-fold LFW accuracy, AUC, EER, TAR@FAR on
/// the pairs' cosines): the pair images at the model's own input size, embedded L2-normalised (with their mirror
/// image's embedding added first when flipping). What a user does with a downloaded or exported file before trusting
/// it.
/// </summary>
public static class ModelVerification
{
    /// <summary>The teacher spec of a model argument: a path ending in <c>.onnx</c> is <c>onnx:path</c>; zoo:… and
    /// onnx:… specs pass unchanged.</summary>
    public static string Spec(string model) =>
        model.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) && !model.Contains(':') ? $"onnx:{model}" : model;

    /// <summary>Checks the model spec and the files before any work: one line naming what is wrong.</summary>
    private static void Check(string model, ModelVerificationOptions o)
    {
        var spec = Spec(model);
        if (!spec.StartsWith("zoo:", StringComparison.Ordinal) && !spec.StartsWith("onnx:", StringComparison.Ordinal))
            throw new FaceDistillException(
                $"--model '{model}': a file.onnx, onnx:<file.onnx>[?options] or zoo:<net> (a run is --run)"
            );
        if (spec.StartsWith("zoo:", StringComparison.Ordinal) && !TeacherFactory.ZooTeachers.Contains(spec[4..]))
            throw new FaceDistillException(
                $"--model '{model}': no such zoo net (zoo:{string.Join(", zoo:", TeacherFactory.ZooTeachers)})"
            );
        if (
            spec.StartsWith("onnx:", StringComparison.Ordinal)
            && Distillation.Teachers.OnnxTeacherOptions.Parse(spec[5..]).Path is var path
            && !File.Exists(path)
        )
            throw FaceDistillException.ForFile(path, "ONNX model not found (--model)");
        if (!File.Exists(o.Pairs))
            throw FaceDistillException.ForFile(o.Pairs, "pair list not found");
        if (!Directory.Exists(o.Images))
            throw FaceDistillException.ForFile(o.Images, "image folder not found");
        if (o.OccludedImages is { } occluded && !Directory.Exists(occluded))
            throw FaceDistillException.ForFile(occluded, "image folder not found (--images-occluded)");
        if (o.OccludedImages is not null && o.View != "clean")
            throw new FaceDistillException("--images-occluded holds the occluded images: it takes no --view");
        if (o.Landmarks is { } lm && lm != "zoo" && !File.Exists(lm))
            throw FaceDistillException.ForFile(lm, "landmarks CSV not found");
        if (!(o.CenterCrop > 0 && o.CenterCrop <= 1))
            throw new FaceDistillException($"--center-crop must be in (0, 1], found {o.CenterCrop}");
        var view = FaceViews.Parse(o.View);
        if (FaceViews.IsOcclusion(view) && o.Landmarks is null)
            throw new FaceDistillException(
                $"--view {o.View}: its occluders need the pair images' 68 landmarks (--landmarks <csv> or zoo)"
            );
    }

    /// <summary>The model verified on the pairs (<see cref="EvalReport.Detail"/> is the
    /// <see cref="VerificationResult"/>, which <see cref="Calibration.From"/> turns into a threshold).</summary>
    public static EvalReport Verify(string model, ModelVerificationOptions o, IProgress<int>? progress = null)
    {
        Check(model, o);
        var pairs = RunData.LfwPairs(o.Pairs, o.Images, o.Landmarks);
        using var teacher = TeacherFactory.Create(Spec(model));
        if (o.OccludedImages is { } folder)
        {
            var occluded = RunData.LfwPairs(o.Pairs, folder, null);
            float[][] Embed(PairList p, IProgress<int>? pr) =>
                Embedder.Embed(
                    teacher,
                    p.Images,
                    teacher.InputSize,
                    o.CenterCrop,
                    o.Flip,
                    o.BatchSize,
                    pr,
                    FaceView.Clean
                );
            var b = Embed(occluded, progress);
            var a = o.OneSide ? Embed(pairs, null) : b;
            return Verification.Report(pairs.Pairs.Select(p => Embedder.Cosine(a[p.A], b[p.B])).ToArray(), pairs);
        }
        return Evaluator.Verify(
            (v, pr) =>
                Embedder.Embed(teacher, pairs.Images, teacher.InputSize, o.CenterCrop, o.Flip, o.BatchSize, pr, v),
            pairs,
            progress,
            FaceViews.Parse(o.View),
            o.OneSide
        );
    }
}
