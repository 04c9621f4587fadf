using FaceDistill.Data;
using FaceDistill.Faces;
using FaceDistill.Faces.Zoo;

namespace FaceDistill.Evaluation;

/// <summary>
/// The zoo teachers on real data — the numbers the students will fight (docs/results/teachers.md). Every protocol takes
/// an optional <see cref="FaceView"/> applied to each image before the teacher sees it (<c>occluded:mask</c>,
/// <c>occluded:vr</c>, <c>lowres:16</c>: the views of the occlusion experiments), so the same code measures the teacher
/// on full and on occluded faces. Occluders are drawn from each sample's 68 landmarks: for crops those of the dataset
/// (<see cref="Faces.DatasetLandmarks"/>), for photos those the zoo finds on the clean photo.
/// <list type="bullet">
/// <item>Verification (LFW pairs): detect → 68 landmarks → dlib crop → 128-d descriptor; score = −Euclidean distance
/// (face-api's metric); 10-fold accuracy, TAR@FAR, ROC. Images where no face is found fall back to the detector-free
/// path (whole image as the face box) and are counted.</item>
/// <item>Expression (FER2013) and age/gender (UTKFace), datasets of face crops: the whole crop is the face box →
/// landmarks → <c>alignedRect</c> → the net, as face-api would crop it.</item>
/// </list>
/// </summary>
public static class TeacherBaselines
{
    /// <param name="View">applied to every image (every image of a pair list: both sides of each pair); null =
    /// clean</param> <param name="Seed">seed of the view's randomness (occluder style, colour), per image</param>
    public sealed record Options(int BatchSize = 32, FaceView? View = null, int Seed = 0)
    {
        public RgbImage Apply(RgbImage image, FaceLabels labels, int index) =>
            View?.Transform is null ? image : View.Transform(image, labels, Core.Seeds.Rng(Seed, index));
    }

    public static (EvalReport Report, int NoFace) Verify(
        FaceAnalyzer zoo,
        PairList pairs,
        Options? options = null,
        IProgress<int>? progress = null
    )
    {
        options ??= new Options();
        int n = pairs.Images.Count,
            noFace = 0;
        var desc = new float[n][];
        for (int i = 0; i < n; i++)
        {
            var clean = pairs.Images.Image(i);
            int index = i;
            var (face, found) = Core.NativeRetry.Run(() =>
            {
                // the face is found on the clean photo; the view (an occluder from that face's landmarks) comes after
                var faces = zoo.Detect(clean);
                if (faces.Count == 0)
                    return (zoo.AnalyzeFaceCrops([options.Apply(clean, pairs.Images.Labels(index), index)])[0], false);
                // The face nearest the centre among confident ones (LFW's subject is centred).
                var best = faces
                    .OrderBy(f =>
                        Math.Abs(f.Box.X + f.Box.Width / 2 - clean.Width / 2.0)
                        + Math.Abs(f.Box.Y + f.Box.Height / 2 - clean.Height / 2.0)
                    )
                    .First();
                var img = clean;
                if (options.View is not null)
                {
                    var lm = zoo.Locate(clean, [best])[0].Landmarks.ToXY();
                    img = options.Apply(clean, pairs.Images.Labels(index) with { Landmarks = lm }, index);
                }
                return (zoo.Analyze(img, [best]).FirstOrDefault() ?? zoo.AnalyzeFaceCrops([img])[0], true);
            });
            if (!found)
                noFace++;
            desc[i] = face.Descriptor;
            progress?.Report(i + 1);
        }
        var scores = pairs.Pairs.Select(p => -Euclidean(desc[p.A], desc[p.B])).ToArray();
        return (Verification.Report(scores, pairs, [new("no_face", noFace)]), noFace);
    }

    /// <summary>Expression accuracy on a dataset whose class names (<paramref name="classNames"/>, indexed by the
    /// expression label) are FER2013's, mapped onto face-api's 7 labels; <paramref name="source"/> (the dataset's
    /// folder) names it in errors.</summary>
    public static EvalReport Expression(
        FaceAnalyzer zoo,
        IFaceDataset data,
        IReadOnlyList<string> classNames,
        string source,
        Options? options = null,
        IProgress<int>? progress = null
    )
    {
        options ??= new Options();
        var map = classNames
            .Select(c =>
                FaceExpressionNet.Fer2013ToFaceApi.TryGetValue(c, out var l)
                    ? Array.IndexOf(FaceExpressionNet.Labels, l)
                    : throw Core.FaceDistillException.ForFile(source, $"class '{c}' is not a FER2013 expression")
            )
            .ToArray();
        var truth = new List<int>();
        var pred = new List<int>();
        ForBatches(
            zoo,
            data,
            options,
            progress,
            (i, f) =>
            {
                truth.Add(map[data.Labels(i).Expression]);
                pred.Add(Evaluator.ArgMax(f.Expressions));
            }
        );
        var r = Metrics.Classification(truth, pred, FaceExpressionNet.Labels.Length);
        return new EvalReport(
            "classification",
            new Dictionary<string, double> { ["acc"] = r.Accuracy, ["balanced_acc"] = r.BalancedAccuracy },
            r
        );
    }

    /// <summary>Age MAE and gender accuracy (UTKFace labels: gender 0 = male, 1 = female, as face-api's
    /// indices).</summary>
    public static (EvalReport Age, EvalReport Gender) AgeGender(
        FaceAnalyzer zoo,
        IFaceDataset data,
        Options? options = null,
        IProgress<int>? progress = null
    )
    {
        options ??= new Options();
        var ageTruth = new List<double>();
        var agePred = new List<double>();
        var gTruth = new List<int>();
        var gPred = new List<int>();
        ForBatches(
            zoo,
            data,
            options,
            progress,
            (i, f) =>
            {
                var l = data.Labels(i);
                if (!float.IsNaN(l.Age))
                {
                    ageTruth.Add(l.Age);
                    agePred.Add(f.Age);
                }
                if (l.Gender >= 0)
                {
                    gTruth.Add(l.Gender);
                    gPred.Add(f.Gender == "male" ? 0 : 1);
                }
            }
        );
        var age = Metrics.Regression(ageTruth, agePred);
        var g = Metrics.Classification(gTruth, gPred, 2);
        return (
            new EvalReport(
                "regression",
                new Dictionary<string, double> { ["mae"] = age.Mae, ["rmse"] = age.Rmse },
                age
            ),
            new EvalReport(
                "classification",
                new Dictionary<string, double> { ["acc"] = g.Accuracy, ["balanced_acc"] = g.BalancedAccuracy },
                g
            )
        );
    }

    private static void ForBatches(
        FaceAnalyzer zoo,
        IFaceDataset data,
        Options options,
        IProgress<int>? progress,
        Action<int, FaceAnalysis> consume
    )
    {
        for (int start = 0; start < data.Count; start += options.BatchSize)
        {
            int end = Math.Min(data.Count, start + options.BatchSize);
            var images = new RgbImage[end - start];
            Parallel.For(
                start,
                end,
                i =>
                {
                    var (img, landmarks) = data.Load(i);
                    images[i - start] = options.Apply(img, data.Labels(i) with { Landmarks = landmarks }, i);
                }
            );
            var faces = Core.NativeRetry.Run(() => zoo.AnalyzeFaceCrops(images));
            for (int i = start; i < end; i++)
                consume(i, faces[i - start]);
            progress?.Report(end);
        }
    }

    public static double Euclidean(float[] a, float[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = a[i] - b[i];
            s += d * d;
        }
        return Math.Sqrt(s);
    }
}
