using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Distillation;
using FaceDistill.Runs;
using static TorchSharp.torch;

namespace FaceDistill.Tests;

/// <summary><c>data.unlabelled</c>: faces without labels join a classification run and learn from its teacher
/// alone.</summary>
public class UnlabelledDataTests
{
    [Fact]
    public void UnlabelledRowsCarryNoTaskLoss()
    {
        using var logits = tensor(new[] { 2f, 0.5f, -1f, 0f, 1f, 3f, 1f, 1f, 1f }, [3, 3]);
        using var labels = tensor(new long[] { 1, -1, -1 });
        var batch = new Batch
        {
            Count = 3,
            Size = 1,
            Views = [],
            Labels = [new FaceLabels(Expression: 1), FaceLabels.None, FaceLabels.None],
            Indices = [0, 1, 2],
        };
        var (q, labelled) = Objective.SoftTargets(batch, labels, logits);
        using var _ = q;
        Assert.Equal(1, labelled);
        Assert.Equal([0, 1f, 0, 0, 0, 0, 0, 0, 0], q!.data<float>().ToArray());
        // the loss the objective takes: the cross-entropy of the one labelled row, not diluted by the other two
        using var loss = Models.Heads.Head.SoftCrossEntropy(logits, q) * (3.0 / labelled);
        using var ce = nn.functional.cross_entropy(logits.narrow(0, 0, 1), labels.narrow(0, 0, 1));
        Assert.Equal(ce.item<float>(), loss.item<float>(), 5);
    }

    private static RunSettings Config(string root, string pool)
    {
        var tiny = TestUtil.Tiny("unlabelled", epochs: 1);
        return tiny with
        {
            Task = "expression",
            Data = tiny.Data with { Unlabelled = [pool], UnlabelledGrayscale = true },
            Model = tiny.Model with { Head = new HeadConfig { Type = "softmax" } },
            Distill = new DistillConfig
            {
                Method = "kd",
                Teacher = "zoo:expression",
                Lambda = 0.5,
                Cache = true,
                CacheDir = Path.Combine(root, "cache"),
            },
        };
    }

    [ZooFact]
    public void UnlabelledFacesJoinTrainingAndLearnFromTheTeacher()
    {
        var root = TestUtil.TempDir();
        var pool = Path.Combine(root, "pool");
        Directory.CreateDirectory(pool);
        var faces = TestUtil.Faces(3, 4, 48, 11);
        for (int i = 0; i < faces.Count; i++)
            ImageCodec.Save(faces.Image(i), Path.Combine(pool, $"{i:D2}.png"));
        var cfg = RunConfig.Resolve(Config(root, pool), "test").Settings;
        var data = RunData.From(cfg);
        var labelled = RunData.From(cfg with { Data = cfg.Data with { Unlabelled = null } }).Train;
        Assert.Equal(labelled.Count + faces.Count, data.Train.Count);
        Assert.Equal(labelled.ClassCount(FaceTask.Expression), data.Classes); // the pool adds no class
        for (int i = labelled.Count; i < data.Train.Count; i++)
        {
            Assert.Equal(-1, data.Train.Labels(i).Expression);
            var img = data.Train.Image(i);
            Assert.Equal(img.Pixels[0], img.Pixels[1]); // grey
        }
        var run = TrainingRun.Execute(cfg, root, ExistingRun.Refuse);
        Assert.True(double.IsFinite(run.Result.FinalLoss), $"loss {run.Result.FinalLoss}");
        // the trained model loads for use without its teacher (evaluation under another view, export): it once
        // failed here, after the training, because the stored config was checked without its distiller
        using var trained = TrainedRun.Load(Path.Combine(root, "unlabelled"));
        Assert.Equal(data.Classes, trained.Classes);

        string Err(RunSettings c) =>
            Assert.Throws<FaceDistillException>(() => RunConfig.Resolve(c, "test").Settings).Message;
        var bad = Config(root, pool);
        Assert.Contains("data.unlabelled", Err(bad with { Distill = new DistillConfig() }));
        Assert.Contains("needs distill.method 'kd'", Err(bad with { Distill = new DistillConfig() }));
        Assert.Contains(
            "model.head.type 'softmax'",
            Err(bad with { Model = bad.Model with { Head = new HeadConfig { Type = "arcface" } } })
        );
        Assert.Contains(
            "unlabelled face folder not found",
            Err(bad with { Data = bad.Data with { Unlabelled = [Path.Combine(root, "none")] } })
        );
    }
}

/// <summary>A run saved before a config key existed is still the same run (found when data.unlabelled was added:
/// every finished run was refused as "started with a different config").</summary>
public class ConfigUpgradeTests
{
    [Fact]
    public void AConfigSavedBeforeAKeyExistedIsTheSameRun()
    {
        var cfg = TestUtil.Tiny("upgrade");
        var node = System.Text.Json.Nodes.JsonNode.Parse(ConfigLoader.ToJson(cfg))!.AsObject();
        var data = node["data"]!.AsObject();
        Assert.True(data.Remove("unlabelledGrayscale"));
        data.Remove("unlabelled");
        var older = node.ToJsonString();
        Assert.True(RunConfig.SameAs(older, cfg));
        data["imageSize"] = 48; // a real change is still one
        Assert.False(RunConfig.SameAs(node.ToJsonString(), cfg));
    }

    [Fact]
    public void AConfigSavedBeforeAMethodDeclaredAKeyIsTheSameRun()
    {
        // found when labelfree gained distill.anchor and distill.ridge: every finished label-free run was refused
        var tiny = TestUtil.Tiny("upgrade");
        var cfg = tiny with
        {
            Distill = DistillationMethods.Resolve(
                new DistillConfig { Method = "labelfree", Teacher = "zoo:mobileface" },
                new ConfigChecks("test")
            ),
        };
        var node = System.Text.Json.Nodes.JsonNode.Parse(ConfigLoader.ToJson(cfg))!.AsObject();
        var distill = node["distill"]!.AsObject();
        Assert.True(distill.Remove("ridge"));
        Assert.True(RunConfig.SameAs(node.ToJsonString(), cfg));
        distill["relational"] = 0.5; // a real change is still one
        Assert.False(RunConfig.SameAs(node.ToJsonString(), cfg));
    }
}
