using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Data.Synthetic;
using FaceDistill.Faces;

namespace FaceDistill.Runs;

/// <summary>The <see cref="ExperimentData"/> a config asks for: the training set (synthetic, or a file dataset from
/// <see cref="DataSources"/> with its landmarks attached), the held-out identities or split, and the verification
/// pairs.</summary>
public static class RunData
{
    public static ExperimentData From(ExperimentConfig c)
    {
        var task = FaceTaskExtensions.Parse(c.Task);
        var d = c.Data;
        IFaceDataset train;
        IFaceDataset? val = null;
        PairList? pairs = null;
        if (d.Source == "synthetic")
        {
            var s = d.Synthetic;
            train = new SyntheticFaces(
                new SyntheticOptions
                {
                    Identities = s.Identities,
                    ImagesPerIdentity = s.ImagesPerIdentity,
                    Size = s.RenderSize,
                    Seed = s.Seed,
                    Difficulty = (float)s.Difficulty,
                }
            );
            // held-out people: identity ids after the training ones, so never seen in training
            val = new SyntheticFaces(
                new SyntheticOptions
                {
                    Identities = s.ValIdentities,
                    ImagesPerIdentity = s.ValImagesPerIdentity,
                    FirstIdentity = s.Identities,
                    Size = s.RenderSize,
                    Seed = s.Seed,
                    Difficulty = (float)s.Difficulty,
                }
            );
        }
        else
        {
            IFaceDataset Read(string path)
            {
                IFaceDataset ds = DataSources.Registry.Get(d.Source).Read!(path, task);
                return d.Landmarks is null ? ds : DatasetLandmarks.Attach((FileFaceDataset)ds, d.Landmarks);
            }
            var all = Read(d.Path!);
            int splitSeed = d.SplitSeed ?? c.Train.Seed;
            var labelled = Enumerable.Range(0, all.Count).Where(i => HasLabel(task, all.Labels(i))).ToArray();
            if (labelled.Length == 0)
                throw FaceDistillException.ForFile(d.Path!, $"no image carries a {task} label");
            var order = Seeds
                .Permutation(labelled.Length, Seeds.Derive(splitSeed, 0xDA7A))
                .Select(i => labelled[i])
                .ToArray();
            if (task == FaceTask.Recognition && c.Eval.Pairs is null)
            {
                // hold out whole identities: verification must be on people never trained on
                var ids = order.Select(i => all.Labels(i).Identity).Distinct().ToArray();
                var valIds = ids.Take((int)Math.Round(ids.Length * d.ValFraction)).ToHashSet();
                val = new SubsetDataset(all, order.Where(i => valIds.Contains(all.Labels(i).Identity)).ToArray());
                train = ExperimentData.Reindex(
                    new SubsetDataset(all, order.Where(i => !valIds.Contains(all.Labels(i).Identity)).ToArray())
                );
            }
            else if (d.TestPath is not null && task != FaceTask.Recognition)
            {
                var test = Read(d.TestPath);
                var testIdx = Enumerable.Range(0, test.Count).Where(i => HasLabel(task, test.Labels(i))).ToArray();
                if (d.MaxTestImages > 0 && testIdx.Length > d.MaxTestImages)
                    testIdx = Seeds
                        .Permutation(testIdx.Length, Seeds.Derive(splitSeed, 0x7E57))
                        .Take(d.MaxTestImages)
                        .Select(i => testIdx[i])
                        .Order()
                        .ToArray();
                val = new SubsetDataset(test, testIdx);
                train = new SubsetDataset(all, order);
            }
            else
            {
                int nVal = task == FaceTask.Recognition ? 0 : (int)Math.Round(order.Length * d.ValFraction);
                if (d.MaxTestImages > 0)
                    nVal = Math.Min(nVal, d.MaxTestImages);
                val = nVal > 0 ? new SubsetDataset(all, order.Take(nVal).ToArray()) : null;
                train = new SubsetDataset(all, order.Skip(nVal).ToArray());
                if (task == FaceTask.Recognition)
                    train = ExperimentData.Reindex(train);
            }
            if (d.MaxImages > 0 && train.Count > d.MaxImages)
                train =
                    task == FaceTask.Recognition
                        ? ExperimentData.Reindex(new SubsetDataset(train, Enumerable.Range(0, d.MaxImages).ToArray()))
                        : new SubsetDataset(train, Enumerable.Range(0, d.MaxImages).ToArray());
        }
        if (task == FaceTask.Recognition)
        {
            if (c.Eval.Pairs is not null)
            {
                pairs = PairList.LoadLfw(c.Eval.Pairs, c.Eval.Images!);
                if (c.Eval.Landmarks is not null)
                    pairs = pairs.WithImages(DatasetLandmarks.Attach((FileFaceDataset)pairs.Images, c.Eval.Landmarks));
            }
            else if (val is not null && val.Count > 0)
                pairs = PairList.FromIdentities(val, 10, c.Eval.PairsPerFold, Seeds.Derive(c.Train.Seed, 0xFA1));
        }
        int classes = task == FaceTask.Age ? 1 : train.ClassCount(task);
        var ages = Enumerable
            .Range(0, Math.Min(train.Count, 5000))
            .Select(i => train.Labels(i).Age)
            .Where(a => !float.IsNaN(a))
            .ToArray();
        return new ExperimentData
        {
            Train = train,
            Validation = val,
            Pairs = pairs,
            Classes = classes,
            AgeMean = ages.Length > 0 ? ages.Average() : 30,
            EvalCenterCrop = c.Eval.Pairs is not null ? c.Eval.CenterCrop : d.CenterCrop,
        };
    }

    private static bool HasLabel(FaceTask task, FaceLabels l) =>
        task == FaceTask.Age ? !float.IsNaN(l.Age) : task.ClassLabel(l) >= 0;
}
