using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Distillation;
using FaceDistill.Models.Heads;
using FaceDistill.Omni;
using static TorchSharp.torch;

namespace FaceDistill.Tests;

/// <summary>Soft labels: learned by gradient matching, written beside a condensed set, read back by the image-folder
/// reader, and trained on as the cross-entropy with soft targets.</summary>
public class SoftLabelTests
{
    private static readonly string[] Names = FaceDistill
        .Experiments.DerivedSets.ClassNames(FaceTask.Expression)
        .ToArray();

    private static CondenseOptions LearnedGm(int iterations) =>
        new(
            Algorithm: "gm",
            ImagesPerClass: 1,
            Iterations: iterations,
            LearningRate: 0.1,
            RealBatch: 8,
            NetWidth: 8,
            NetDepth: 2,
            OuterLoop: 2,
            InnerLoop: 1,
            SaveEvery: 2,
            Seed: 7,
            SoftLabels: "learned",
            LabelLearningRate: 5
        );

    [Fact]
    public void GradientMatchingLearnsLabelDistributionsAndResumesToTheSameOnes()
    {
        var faces = TestUtil.Faces(14, 4, 32, 5);
        int Cls(int i) => faces.Labels(i).Expression;
        var o = LearnedGm(4);
        var whole = DatasetCondensation.Run(faces, Cls, 7, 32, o, TestUtil.TempDir());
        var q = whole.SoftLabels!;
        Assert.Equal(whole.Count * 7, q.Length);
        var start = SyntheticSet.InitialLabelLogits(whole.Labels, 7);
        for (int i = 0; i < whole.Count; i++)
        {
            var row = q.AsSpan(i * 7, 7).ToArray();
            Assert.InRange(row.Sum(), 0.999, 1.001);
            Assert.All(row, p => Assert.InRange(p, 0, 1));
        }
        // q started at 0.9 on the image's class; the matching loss moved it
        double moved = Enumerable.Range(0, whole.Count).Average(i => Math.Abs(q[i * 7 + whole.Labels[i]] - 0.9));
        Assert.True(moved > 1e-4, $"labels moved {moved}");
        Assert.Equal(Math.Log(54), start[whole.Labels[0]], 5);
        // stopped after 3 iterations (snapshot at 2), then continued: the same images and the same labels
        var state = TestUtil.TempDir();
        DatasetCondensation.Run(faces, Cls, 7, 32, o with { Iterations = 3 }, state);
        var resumed = DatasetCondensation.Run(faces, Cls, 7, 32, o, state);
        Assert.Equal(whole.Losses, resumed.Losses);
        Assert.Equal(whole.Pixels, resumed.Pixels);
        Assert.Equal(q, resumed.SoftLabels);
        // a hard-label snapshot is not taken for a learned-label one
        var hard = DatasetCondensation.Run(faces, Cls, 7, 32, o with { SoftLabels = "none" }, TestUtil.TempDir());
        Assert.Null(hard.SoftLabels);
        var e = Assert.Throws<FaceDistillException>(() =>
            DatasetCondensation.Run(faces, Cls, 7, 32, o with { SoftLabels = "none", Iterations = 6 }, state)
        );
        Assert.Contains("label values", e.Message);
    }

    [Fact]
    public void LabelsAreLearnedOnlyWhereTheObjectiveHasThem()
    {
        var e = Assert.Throws<FaceDistillException>(() => new CondenseOptions("dm", SoftLabels: "learned").Check());
        Assert.Contains("needs algorithm 'gm'", e.Message);
        Assert.Contains(
            "condense.softLabels 'sharp'",
            Assert.Throws<FaceDistillException>(() => new CondenseOptions(SoftLabels: "sharp").Check()).Message
        );
        Assert.Contains(
            "condense.labelTemperature",
            Assert
                .Throws<FaceDistillException>(() =>
                    new CondenseOptions("random", SoftLabels: "model", LabelTemperature: 0).Check()
                )
                .Message
        );
        new CondenseOptions("herding", SoftLabels: "model").Check();
    }

    private static string Folder(int perClass = 2)
    {
        var dir = TestUtil.TempDir();
        var faces = TestUtil.Faces(2, perClass, 24, 3);
        var images = Enumerable
            .Range(0, faces.Count)
            .Select(i => ((Func<RgbImage>)(() => faces.Image(i)), i % 2 == 0 ? 0 : 3))
            .ToList();
        var set = Path.Combine(dir, "set");
        FaceSetWriter.Write(set, Names, images);
        return set;
    }

    [Fact]
    public void SoftLabelsRoundTripThroughTheImageFolderReader()
    {
        var set = Folder();
        var files = FaceSetWriter.RelativePaths(Names, [0, 3, 0, 3]);
        var q = new[] { 0.7f, 0, 0.1f, 0.2f, 0, 0, 0 };
        SoftLabels.Write(Path.Combine(set, SoftLabels.FileName), Names, [(files[0], q)]);
        var ds = FileFaceDataset.FromImageFolder(set, FaceTask.Expression);
        Assert.Equal(4, ds.Count);
        var withSoft = Enumerable.Range(0, ds.Count).Where(i => ds.Labels(i).Soft is not null).ToList();
        Assert.Single(withSoft);
        Assert.Equal(q, ds.Labels(withSoft[0]).Soft);
        Assert.Equal(0, ds.Labels(withSoft[0]).Expression); // the folder still names the hard class
        Assert.EndsWith(files[0], ds.Describe(withSoft[0]).Replace('\\', '/'));
    }

    [Theory]
    [InlineData("file,a,b\n", "line 1: header must be")]
    [InlineData("@\nangry/00000.png,0.5,0,0,0,0,0,0\n", "line 2: the probabilities sum to 0.5")]
    [InlineData("@\nangry/00000.png,1.5,0,0,-0.5,0,0,0\n", "line 2: '1.5' (angry) is not a probability")]
    [InlineData("@\nangry/00000.png,1,0,0\n", "line 2: 4 fields, expected 8")]
    [InlineData("@\nangry/00000.png,1,0,0,0,0,0,0\nangry/00000.png,1,0,0,0,0,0,0\n", "line 3: 'angry/00000.png'")]
    [InlineData("@\nangry/09999.png,1,0,0,0,0,0,0\n", "'angry/09999.png' is not an image of")]
    public void ABadSoftLabelFileIsOneLineNamingTheFileAndTheLine(string text, string expected)
    {
        var set = Folder();
        var path = Path.Combine(set, SoftLabels.FileName);
        File.WriteAllText(path, text.Replace("@", "file," + string.Join(',', Names)));
        var e = Assert.Throws<FaceDistillException>(() => FileFaceDataset.FromImageFolder(set, FaceTask.Expression));
        Assert.StartsWith(path, e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void TheTaskLossIsTheCrossEntropyWithSoftTargets()
    {
        using var logits = tensor(new[] { 2f, 0.5f, -1f, 0f, 1f, 3f }, [2, 3]);
        using var labels = tensor(new long[] { 0, 2 });
        var soft = new[] { 0.6f, 0.3f, 0.1f };
        var batch = new Batch
        {
            Count = 2,
            Size = 1,
            Views = [],
            Labels = [new FaceLabels(Expression: 0, Soft: soft), new FaceLabels(Expression: 2)],
            Indices = [0, 1],
        };
        var (targets, labelled) = Objective.SoftTargets(batch, labels, logits);
        using var q = targets!;
        Assert.Equal(2, labelled);
        Assert.Equal([0.6f, 0.3f, 0.1f, 0, 0, 1], q.data<float>().ToArray()); // the hard row one-hot
        using var loss = new SoftmaxHead(4, 3).SoftLoss(logits, q);
        // by hand: −Σ_c q_c log softmax(z)_c, averaged over the two rows
        double Row(float[] z, float[] p)
        {
            double lse = Math.Log(z.Sum(v => Math.Exp(v)));
            return -z.Select((v, c) => p[c] * (v - lse)).Sum();
        }
        double expected = (Row([2f, 0.5f, -1f], soft) + Row([0f, 1f, 3f], [0, 0, 1])) / 2;
        Assert.Equal(expected, loss.item<float>(), 5);
        // one-hot targets give exactly the hard cross-entropy; a batch without soft labels has no targets
        using var hardQ = tensor(new[] { 1f, 0, 0, 0, 0, 1 }, [2, 3]);
        using var ce = nn.functional.cross_entropy(logits, labels);
        Assert.Equal(ce.item<float>(), Head.SoftCrossEntropy(logits, hardQ).item<float>(), 5);
        var hardBatch = new Batch
        {
            Count = 2,
            Size = 1,
            Views = [],
            Labels = [new FaceLabels(Expression: 0), new FaceLabels(Expression: 2)],
            Indices = [0, 1],
        };
        Assert.Null(Objective.SoftTargets(hardBatch, labels, logits).Targets);
        // a margin head does not train on them (it does on one-hot and empty rows: faces without identity in a
        // pool, PoolIdentitiesTests): one line naming the key
        var margin = new CombinedMarginHead(4, 3, 32, 1, 0.5, 0);
        var e = Assert.Throws<FaceDistillException>(() => margin.SoftLoss(logits, q));
        Assert.Contains("model.head.type", e.Message);
    }
}
