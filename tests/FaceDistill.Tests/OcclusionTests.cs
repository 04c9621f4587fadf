using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Data.Synthetic;
using FaceDistill.Distillation;
using FaceDistill.Evaluation;
using FaceDistill.Faces.Occlusion;
using static TorchSharp.torch;

namespace FaceDistill.Tests;

public class OcclusionTests
{
    private static (RgbImage Image, float[] Landmarks) Face(int index = 3)
    {
        var s = new SyntheticFaces(
            new SyntheticOptions
            {
                Identities = 4,
                ImagesPerIdentity = 4,
                Size = 96,
                Seed = 5,
                Difficulty = 0.3f,
            }
        );
        return s.Render(index);
    }

    /// <summary>Mean absolute change of the pixels inside the landmarks' box of points <paramref
    /// name="from"/>..<paramref name="to"/>.</summary>
    private static double Changed(RgbImage a, RgbImage b, float[] lm, int from, int to)
    {
        var xs = Enumerable.Range(from, to - from + 1).Select(i => lm[2 * i]).ToArray();
        var ys = Enumerable.Range(from, to - from + 1).Select(i => lm[2 * i + 1]).ToArray();
        int x0 = (int)xs.Min(),
            x1 = (int)Math.Ceiling(xs.Max()),
            y0 = (int)ys.Min(),
            y1 = (int)Math.Ceiling(ys.Max());
        double sum = 0;
        int n = 0;
        for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
        for (int c = 0; c < 3; c++)
        {
            sum += Math.Abs(a.Pixels[(y * a.Width + x) * 3 + c] - b.Pixels[(y * a.Width + x) * 3 + c]);
            n++;
        }
        return sum / n;
    }

    /// <summary>Mean absolute change in a 5×5 patch at the centre of landmarks <paramref name="from"/>..<paramref
    /// name="to"/>.</summary>
    private static double ChangedAt(RgbImage a, RgbImage b, float[] lm, int from, int to)
    {
        int cx = (int)Enumerable.Range(from, to - from + 1).Average(i => lm[2 * i]),
            cy = (int)Enumerable.Range(from, to - from + 1).Average(i => lm[2 * i + 1]);
        double sum = 0;
        for (int y = cy - 2; y <= cy + 2; y++)
        for (int x = cx - 2; x <= cx + 2; x++)
        for (int c = 0; c < 3; c++)
            sum += Math.Abs(a.Pixels[(y * a.Width + x) * 3 + c] - b.Pixels[(y * a.Width + x) * 3 + c]);
        return sum / 75;
    }

    [Fact]
    public void MasksHideTheMouthAndKeepTheEyes_VrHidesTheEyesAndKeepsTheMouth()
    {
        var (img, lm) = Face();
        foreach (var style in new[] { "mask:surgical", "mask:n95", "mask:cloth" })
        {
            var masked = Occluder.Parse(style).Apply(img, lm, new Random(1));
            Assert.True(Changed(img, masked, lm, 48, 67) > 30, $"{style} should cover the mouth");
            Assert.True(
                ChangedAt(img, masked, lm, 36, 41) < 1 && ChangedAt(img, masked, lm, 42, 47) < 1,
                $"{style} should leave the eyes"
            );
        }
        var vr = Occluder.Parse("vr").Apply(img, lm, new Random(1));
        Assert.True(Changed(img, vr, lm, 36, 47) > 30, "the headset should cover the eyes");
        Assert.True(Changed(img, vr, lm, 17, 26) > 30, "the headset should cover the brows");
        Assert.True(ChangedAt(img, vr, lm, 48, 67) < 1, "the headset should leave the mouth");
        var glasses = Occluder.Parse("sunglasses").Apply(img, lm, new Random(1));
        Assert.True(Changed(img, glasses, lm, 36, 47) > 30);
        Assert.True(ChangedAt(img, glasses, lm, 48, 67) < 1);
    }

    [Fact]
    public void VariedMasksScarvesAndHandsCoverTheLowerFaceDeterministicallyAndVary()
    {
        var (img, lm) = Face();
        foreach (var name in new[] { "mask:varied", "scarf" })
        {
            var covered = Enumerable
                .Range(0, 12)
                .Select(s => Occluder.Parse(name).Apply(img, lm, new Random(s)))
                .ToList();
            // a mask worn under the nose still covers the mouth; none of them the eyes
            var seen = string.Join(
                "; ",
                covered.Select(m => $"{Changed(img, m, lm, 48, 67):F0}/{ChangedAt(img, m, lm, 36, 41):F1}")
            );
            Assert.True(covered.All(m => Changed(img, m, lm, 48, 67) > 20), $"{name} mouth/eye: {seen}");
            Assert.True(covered.All(m => ChangedAt(img, m, lm, 36, 41) < 1), $"{name} mouth/eye: {seen}");
            Assert.Equal(covered[3].Pixels, Occluder.Parse(name).Apply(img, lm, new Random(3)).Pixels);
            Assert.True(
                covered
                    .Select(m => Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(m.Pixels)))
                    .Distinct()
                    .Count() == 12,
                $"{name}: every seed a different look"
            );
        }
        // a hand lands on the mouth or a cheek: the lower face changes (its fingers may reach an eye)
        var hands = Enumerable.Range(0, 12).Select(s => Occluder.Parse("hand").Apply(img, lm, new Random(s))).ToList();
        var lower = string.Join(
            "; ",
            hands.Select(h => $"{Changed(img, h, lm, 0, 16):F1}/{Changed(img, h, lm, 48, 67):F1}")
        );
        Assert.True(hands.All(h => Changed(img, h, lm, 0, 16) > 5), $"jaw/mouth change per seed: {lower}");
        Assert.Equal(hands[5].Pixels, Occluder.Parse("hand").Apply(img, lm, new Random(5)).Pixels);
    }

    [Fact]
    public void OccludersAreDeterministicForASeed()
    {
        var (img, lm) = Face();
        var a = Occluder.Parse("mask").Apply(img, lm, new Random(7));
        var b = Occluder.Parse("mask").Apply(img, lm, new Random(7));
        Assert.Equal(a.Pixels, b.Pixels);
        // the random style differs between some seeds
        Assert.Contains(
            Enumerable.Range(0, 8),
            s => !Occluder.Parse("mask").Apply(img, lm, new Random(s)).Pixels.SequenceEqual(a.Pixels)
        );
    }

    [Fact]
    public void ViewNamesParseAndUnknownOnesAreRejected()
    {
        Assert.Equal("occluded:vr", FaceViews.Parse("occluded:vr").Name);
        Assert.Equal("occluded:mask:n95", FaceViews.Parse("occluded:mask:n95").Name);
        var e = Assert.Throws<FaceDistillException>(() => FaceViews.Parse("occluded:hat"));
        Assert.Contains("unknown occluder 'hat'", e.Message);
        Assert.Throws<FaceDistillException>(() => FaceViews.Parse("occluded:mask:paper"));
        Assert.Throws<FaceDistillException>(() =>
            Occluder.Parse("vr").Apply(Face().Image, new float[10], new Random(1))
        );
    }

    [Fact]
    public void TheLoaderGivesSyntheticLandmarksAndPixelAlignedViews()
    {
        var data = new SyntheticFaces(
            new SyntheticOptions
            {
                Identities = 3,
                ImagesPerIdentity = 2,
                Size = 64,
                Seed = 2,
            }
        );
        var loader = new DataLoader(
            data,
            new DataLoaderOptions
            {
                BatchSize = 6,
                ImageSize = 48,
                Shuffle = false,
                Views = [FaceView.Clean, FaceViews.Parse("occluded:vr")],
                Augment = new AugmentOptions
                {
                    Flip = true,
                    ScaleMin = 0.9,
                    Shift = 0.05,
                },
            }
        );
        var b = loader.Epoch(0).Single();
        Assert.All(b.Labels, l => Assert.Equal(136, l.Landmarks!.Length));
        // same crop and flip for both views: the lower half of the image (mouth, chin) is identical
        var clean = b.Views["clean"];
        var occ = b.Views["occluded:vr"];
        int per = 3 * 48 * 48;
        double lowerDiff = 0,
            upperDiff = 0;
        for (int k = 0; k < b.Count; k++)
        for (int c = 0; c < 3; c++)
        for (int y = 0; y < 48; y++)
        for (int x = 0; x < 48; x++)
        {
            int i = k * per + c * 48 * 48 + y * 48 + x;
            if (y >= 36)
                lowerDiff += Math.Abs(clean[i] - occ[i]);
            else if (y is >= 14 and < 26)
                upperDiff += Math.Abs(clean[i] - occ[i]);
        }
        Assert.True(lowerDiff < 1e-3, $"lower half differs by {lowerDiff}");
        Assert.True(upperDiff > 100, $"upper half should be occluded ({upperDiff})");
    }

    [Fact]
    public void AnOccludedViewOfAnImageWithoutLandmarksFailsNamingTheImage()
    {
        var dir = TestUtil.TempDir();
        var path = Path.Combine(dir, "face.png");
        ImageCodec.Save(Face().Image, path);
        var ds = new FileFaceDataset(dir, [(path, new FaceLabels(Expression: 1))], new() { [FaceTask.Expression] = 7 });
        var loader = new DataLoader(
            ds,
            new DataLoaderOptions
            {
                BatchSize = 1,
                ImageSize = 32,
                Views = [FaceView.Clean, FaceViews.Parse("occluded:mask")],
            }
        );
        var e = Assert.Throws<FaceDistillException>(() => loader.Epoch(0).ToList());
        Assert.Contains("face.png", e.Message);
        Assert.Contains("landmarks", e.Message);
    }

    [Fact]
    public void LandmarksCsvGivesFileDatasetsTheirLandmarks()
    {
        var dir = TestUtil.TempDir();
        var (img, lm) = Face();
        ImageCodec.Save(img, Path.Combine(dir, "a.png"));
        File.WriteAllText(
            Path.Combine(dir, "landmarks.csv"),
            "path,"
                + string.Join(',', Enumerable.Range(0, 68).Select(i => $"x{i},y{i}"))
                + "\na.png,"
                + string.Join(',', lm.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                + "\n"
        );
        var ds = new FileFaceDataset(dir, [(Path.Combine(dir, "a.png"), new FaceLabels())], []);
        var with = Faces.DatasetLandmarks.Attach(ds, Path.Combine(dir, "landmarks.csv"), dir);
        Assert.Equal(lm, with.Labels(0).Landmarks!, new FloatTolerance(0.01f));
    }

    private sealed class FloatTolerance(float tol) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tol;

        public int GetHashCode(float f) => 0;
    }
}

public class OcclusionLossTests
{
    // unit vectors, so squared distances are 2 − 2·cos:
    // anchor 0 (class 0): positive at 0.8; negatives at 0.4 (closer than the positive) and 2.0
    // anchor 1 (class 1): positive at 0; its only negative (sample 0) at 0.08
    // anchor 2 (class 1): positive at 0; its only negative (sample 0) at 0.4
    private static readonly float[] Anchors = [1, 0, 0.8f, 0.6f, 0, 1];
    private static readonly float[] Teachers = [0.6f, 0.8f, 0.8f, 0.6f, 0, 1];
    private static readonly long[] Classes = [0, 1, 1];

    [Theory]
    // anchor 0 takes the negative at 2.0 (farther than its positive)
    [InlineData(TripletMining.SemiHard, (0.3 + 1.42 + 1.1) / 3)]
    [InlineData(TripletMining.Hardest, (1.9 + 1.42 + 1.1) / 3)] // anchor 0 takes the closest negative, 0.4
    public void TripletLossMatchesHandComputation(TripletMining mining, double expected)
    {
        using var a = tensor(Anchors, [3, 2]).requires_grad_();
        using var t = tensor(Teachers, [3, 2]);
        using var loss = TripletDistillation.Loss(a, t, Classes, 1.5, mining);
        Assert.Equal(expected, loss.item<float>(), 4);
        loss.backward();
        Assert.True(a.grad is not null && a.grad.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void TripletLossIsZeroWithoutNegativesAndBeyondTheMargin()
    {
        using var a = tensor(Anchors, [3, 2]);
        using var t = tensor(Teachers, [3, 2]);
        Assert.Equal(0, TripletDistillation.Loss(a, t, [4, 4, 4], 1.0, TripletMining.SemiHard).item<float>());
        // a tiny margin: every anchor's chosen negative is beyond its positive + margin except the hardest rule's
        // anchor 0
        Assert.Equal(0, TripletDistillation.Loss(a, t, Classes, 0.01, TripletMining.SemiHard).item<float>(), 6);
        Assert.True(TripletDistillation.Loss(a, t, Classes, 0.01, TripletMining.Hardest).item<float>() > 0.1);
    }

    [Fact]
    public void RegressionKdIsTheMeanSquaredGapToTheTeacher()
    {
        using var s = tensor(new float[] { 1, 2, 3 });
        using var t = tensor(new float[] { 1, 1, 1 }, [3, 1]);
        Assert.Equal(5f / 3, TeacherStudentKd.RegressionLoss(s, t).item<float>(), 5);
    }

    [Fact]
    public void RidgeRecoversALinearLawAndLogisticRegressionSeparatesClasses()
    {
        var rng = new Random(3);
        var x = Enumerable
            .Range(0, 200)
            .Select(_ => new[] { (float)rng.NextDouble() * 4 - 2, (float)rng.NextDouble() * 4 - 2 })
            .ToArray();
        var y = x.Select(v => 3.0 * v[0] - 2.0 * v[1] + 10).ToArray();
        var pred = EmbeddingCombination.Ridge(
            x,
            y,
            [
                [1f, 1f],
                [0f, 0f],
            ],
            gamma: 1e-6
        );
        Assert.Equal(11, pred[0], 3);
        Assert.Equal(10, pred[1], 3);
        var cls = x.Select(v => v[0] + v[1] > 0 ? 1 : 0).ToArray();
        var p = EmbeddingCombination.LogisticRegression(x, cls, x, 2);
        Assert.True(p.Zip(cls).Count(t => t.First == t.Second) >= 196);
    }

    [Fact]
    public void ConcatenationStandardisesEveryBlockWithTrainingStatistics()
    {
        float[][] a =

            [
                [1, 10],
                [3, 30],
            ],
            b =

            [
                [5],
                [7],
            ];
        var (train, test) = EmbeddingCombination.Concatenate(
            [a, b],
            [
                [
                    [2, 20],
                ],
                [
                    [6],
                ],
            ]
        );
        Assert.Equal(3, train[0].Length);
        for (int j = 0; j < 3; j++)
            Assert.Equal(0, train[0][j] + train[1][j], 4);
        Assert.All(test[0], v => Assert.Equal(0, v, 4)); // the test item sits at the training mean
    }
}
