using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Data.Synthetic;
using FaceDistill.Faces;

namespace FaceDistill.Runs;

/// <summary>The <see cref="RunDatasets"/> a config asks for: the training set (synthetic, or a file dataset from
/// <see cref="DataSources"/> with its landmarks attached), the held-out identities or split, and the verification
/// pairs.</summary>
public static class RunData
{
    public static RunDatasets From(RunSettings c)
    {
        var task = FaceTaskExtensions.Parse(c.Task);
        var (all, val) = Split(c, task);
        var (train, _) = Budget(all, c, task);
        if (c.Data.Extra is { Length: > 0 } extra)
            train = new ConcatDataset([train, .. extra.Select(f => FileFaceDataset.FromImageFolder(f, task))]);
        if (c.Data.Unlabelled is { Length: > 0 } unlabelled)
            train = new ConcatDataset([train, UnlabelledPool(unlabelled, c.Data.UnlabelledGrayscale)]);
        var pairs = task == FaceTask.Recognition ? Pairs(c, val) : null;
        int classes = task == FaceTask.Age ? 1 : train.ClassCount(task);
        var ages = Enumerable
            .Range(0, Math.Min(train.Count, 5000))
            .Select(i => train.Labels(i).Age)
            .Where(a => !float.IsNaN(a))
            .ToArray();
        return new RunDatasets
        {
            Train = train,
            Validation = val,
            Pairs = pairs,
            Classes = classes,
            AgeMean = ages.Length > 0 ? ages.Average() : 30,
            EvalCenterCrop = c.Eval.Pairs is not null ? c.Eval.CenterCrop : c.Data.CenterCrop,
        };
    }

    /// <summary>The training split before the labelled budget, and the held-out images.</summary>
    private static (IFaceDataset Train, IFaceDataset? Val) Split(RunSettings c, FaceTask task) =>
        c.Data.Source == DataSources.Synthetic ? Synthetic(c.Data.Synthetic)
        : c.Data.Source == DataSources.Pool ? (Pool(c.Data), null)
        : Files(c, task);

    /// <summary>The part of the training split outside the labelled budget (<c>data.labelledFraction</c>): the
    /// unlabelled faces omni-supervised mining may use. Their labels stay on the items for measuring the precision of
    /// mining, never for choosing.</summary>
    public static IFaceDataset Unlabelled(RunSettings c)
    {
        var task = FaceTaskExtensions.Parse(c.Task);
        return Budget(Split(c, task).Train, c, task).Remainder;
    }

    /// <summary>The labelled budget: per class, the first ⌈fraction · n_c⌉ of the split's (already seeded) order, at
    /// least one; the rest of each class is the remainder.</summary>
    private static (IFaceDataset Labelled, IFaceDataset Remainder) Budget(
        IFaceDataset train,
        RunSettings c,
        FaceTask task
    )
    {
        double f = c.Data.LabelledFraction;
        if (f >= 1)
            return (train, new SubsetDataset(train, []));
        var order = Seeds.Permutation(train.Count, Seeds.Derive(c.Data.SplitSeed ?? c.Train.Seed, 0xB0D6));
        var byClass = order.GroupBy(i => task.ClassLabel(train.Labels(i))).Where(g => g.Key >= 0).ToList();
        var keep = new HashSet<int>();
        foreach (var g in byClass)
        {
            var items = g.ToArray();
            foreach (var i in items.Take(Math.Max(1, (int)Math.Ceiling(f * items.Length))))
                keep.Add(i);
        }
        var labelled = Enumerable.Range(0, train.Count).Where(keep.Contains).ToArray();
        var rest = Enumerable.Range(0, train.Count).Where(i => !keep.Contains(i)).ToArray();
        return (new SubsetDataset(train, labelled), new SubsetDataset(train, rest));
    }

    /// <summary>Synthetic identities for training, and held-out people (identity ids after the training ones, so
    /// never seen in training).</summary>
    private static (IFaceDataset Train, IFaceDataset Val) Synthetic(SyntheticConfig s)
    {
        SyntheticFaces Faces(int identities, int images, int first) =>
            new(
                new SyntheticOptions
                {
                    Identities = identities,
                    ImagesPerIdentity = images,
                    FirstIdentity = first,
                    Size = s.RenderSize,
                    Seed = s.Seed,
                    Difficulty = (float)s.Difficulty,
                }
            );
        return (
            Faces(s.Identities, s.ImagesPerIdentity, 0),
            Faces(s.ValIdentities, s.ValImagesPerIdentity, s.Identities)
        );
    }

    /// <summary>A file dataset split by a seeded permutation: whole identities held out for recognition without a pair
    /// list, <c>data.testPath</c> as the test set when given, else a held-out fraction; capped by
    /// <c>data.maxImages</c>.</summary>
    private static (IFaceDataset Train, IFaceDataset? Val) Files(RunSettings c, FaceTask task)
    {
        var d = c.Data;
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
        var (train, val) =
            task == FaceTask.Recognition && c.Eval.Pairs is null ? HeldOutIdentities(all, order, d.ValFraction)
            : d.TestPath is not null && task != FaceTask.Recognition
                ? TestSet(Read(d.TestPath), all, order, d, task, splitSeed)
            : HeldOutFraction(all, order, d, task);
        if (d.MaxImages > 0 && train.Count > d.MaxImages)
            train =
                task == FaceTask.Recognition
                    ? RunDatasets.Reindex(new SubsetDataset(train, Enumerable.Range(0, d.MaxImages).ToArray()))
                    : new SubsetDataset(train, Enumerable.Range(0, d.MaxImages).ToArray());
        return (train, val);
    }

    /// <summary>Where the evaluation pairs' images are kept decoded (<see cref="DecodedImages"/>), relative to the
    /// working directory.</summary>
    public static readonly string DecodedCacheDir = Path.Combine("runs", ".decoded");

    /// <summary>Where face-pool manifests are cached (relative to the working directory).</summary>
    public static readonly string PoolCacheDir = Path.Combine("runs", ".pool");

    /// <summary>The face pool of <c>data.pool</c> without duplicate content, its landmarks attached when
    /// <c>data.landmarks</c> is set (occluded views), capped by <c>data.maxImages</c> (a seeded part), the faces of
    /// <c>data.identities</c> labelled with their person (<see cref="PoolIdentities"/>).</summary>
    private static IFaceDataset Pool(DataConfig d)
    {
        var sources = d.Pool!.Select(PoolSource.Of).ToList();
        IFaceDataset pool = FacePool.Open(sources, PoolCacheDir).Distinct();
        if (d.MaxImages > 0 && pool.Count > d.MaxImages)
            pool = new SubsetDataset(
                pool,
                Seeds
                    .Permutation(pool.Count, Seeds.Derive(d.SplitSeed ?? 0, 0x9001))
                    .Take(d.MaxImages)
                    .Order()
                    .ToArray()
            );
        if (d.Landmarks is not null)
            pool = DatasetLandmarks.Attach(pool, d.Landmarks);
        return d.Identities is { Length: > 0 } ids ? new PoolIdentities(pool, ids) : pool;
    }

    /// <summary>The faces of <c>data.unlabelled</c> without duplicates, every label hidden (<see
    /// cref="FaceLabels.None"/>, landmarks kept), grey where asked.</summary>
    private static IFaceDataset UnlabelledPool(string[] folders, bool grayscale)
    {
        var sources = folders.Select(PoolSource.Of).ToList();
        IFaceDataset pool = new UnlabelledDataset(FacePool.Open(sources, PoolCacheDir).Distinct());
        return grayscale ? new GrayscaleDataset(pool) : pool;
    }

    /// <summary>Verification must be on people never trained on: whole identities are held out.</summary>
    private static (IFaceDataset, IFaceDataset?) HeldOutIdentities(IFaceDataset all, int[] order, double fraction)
    {
        var ids = order.Select(i => all.Labels(i).Identity).Distinct().ToArray();
        var valIds = ids.Take((int)Math.Round(ids.Length * fraction)).ToHashSet();
        var val = new SubsetDataset(all, order.Where(i => valIds.Contains(all.Labels(i).Identity)).ToArray());
        var train = RunDatasets.Reindex(
            new SubsetDataset(all, order.Where(i => !valIds.Contains(all.Labels(i).Identity)).ToArray())
        );
        return (train, val);
    }

    private static (IFaceDataset, IFaceDataset?) TestSet(
        IFaceDataset test,
        IFaceDataset all,
        int[] order,
        DataConfig d,
        FaceTask task,
        int splitSeed
    )
    {
        var testIdx = Enumerable.Range(0, test.Count).Where(i => HasLabel(task, test.Labels(i))).ToArray();
        if (d.MaxTestImages > 0 && testIdx.Length > d.MaxTestImages)
            testIdx = Seeds
                .Permutation(testIdx.Length, Seeds.Derive(splitSeed, 0x7E57))
                .Take(d.MaxTestImages)
                .Select(i => testIdx[i])
                .Order()
                .ToArray();
        return (new SubsetDataset(all, order), new SubsetDataset(test, testIdx));
    }

    private static (IFaceDataset, IFaceDataset?) HeldOutFraction(
        IFaceDataset all,
        int[] order,
        DataConfig d,
        FaceTask task
    )
    {
        int nVal = task == FaceTask.Recognition ? 0 : (int)Math.Round(order.Length * d.ValFraction);
        if (d.MaxTestImages > 0)
            nVal = Math.Min(nVal, d.MaxTestImages);
        IFaceDataset? val = nVal > 0 ? new SubsetDataset(all, order.Take(nVal).ToArray()) : null;
        IFaceDataset train = new SubsetDataset(all, order.Skip(nVal).ToArray());
        return (task == FaceTask.Recognition ? RunDatasets.Reindex(train) : train, val);
    }

    /// <summary>A pair list in LFW's format over an image folder, with the images' 68 landmarks where given (a CSV or
    /// "zoo": what occluded views need), the images decoded once into <see cref="DecodedCacheDir"/>.</summary>
    public static PairList LfwPairs(string pairsPath, string images, string? landmarks)
    {
        var pairs = PairList.LoadLfw(pairsPath, images);
        if (landmarks is not null)
            pairs = pairs.WithImages(DatasetLandmarks.Attach((FileFaceDataset)pairs.Images, landmarks));
        return pairs.WithImages(DecodedImages.ServeLazily(pairs.Images, DecodedCacheDir));
    }

    /// <summary>The verification pairs: the config's pair list (with its landmarks), else pairs drawn from the
    /// held-out identities.</summary>
    private static PairList? Pairs(RunSettings c, IFaceDataset? val)
    {
        if (c.Eval.Pairs is not null)
            return LfwPairs(c.Eval.Pairs, c.Eval.Images!, c.Eval.Landmarks);
        return val is not null && val.Count > 0
            ? PairList.FromIdentities(val, 10, c.Eval.PairsPerFold, Seeds.Derive(c.Train.Seed, 0xFA1))
            : null;
    }

    private static bool HasLabel(FaceTask task, FaceLabels l) =>
        task == FaceTask.Age ? !float.IsNaN(l.Age) : task.ClassLabel(l) >= 0;
}
