using FaceDistill.Data;
using FaceDistill.Faces;

namespace FaceDistill.Evaluation;

/// <summary>
/// The layouts of the datasets the zoo teachers are measured on (<c>facedistill models baseline</c>): LFW
/// (<c>pairs.txt</c> + <c>lfw/</c>), FER2013 (its <c>test/</c> split, class = folder), UTKFace (<c>UTKFace/</c>, labels
/// in file names); each also accepted as the folder itself.
/// </summary>
public static class BaselineDatasets
{
    public static readonly string[] Names = ["lfw", "fer2013", "utkface"];

    public static PairList Lfw(string dir) =>
        PairList.LoadLfw(Path.Combine(dir, "pairs.txt"), Path.Combine(dir, "lfw"));

    public static FileFaceDataset Fer2013(string dir)
    {
        var test = Path.Combine(dir, "test");
        return FileFaceDataset.FromImageFolder(Directory.Exists(test) ? test : dir, FaceTask.Expression);
    }

    public static FileFaceDataset UtkFace(string dir, out int skipped)
    {
        var utk = Path.Combine(dir, "UTKFace");
        return FileFaceDataset.FromUtkFace(Directory.Exists(utk) ? utk : dir, out skipped);
    }

    /// <summary>A fixed random subset of <paramref name="count"/> images (all of them when 0 or more than there
    /// are).</summary>
    public static IFaceDataset Subset(IFaceDataset d, int count, int seed)
    {
        if (count <= 0 || count >= d.Count)
            return d;
        var idx = Enumerable.Range(0, d.Count).ToArray();
        new Random(seed).Shuffle(idx);
        return new SubsetDataset(d, idx.Take(count).Order().ToArray());
    }

    /// <summary>The crops with the zoo's 68 landmarks when <paramref name="view"/> draws occluders from them (computed
    /// once per dataset and cached), else as they are.</summary>
    public static IFaceDataset ForView(FileFaceDataset d, FaceView? view, string? zooHome) =>
        view is not null && FaceViews.IsOcclusion(view)
            ? DatasetLandmarks.Attach(d, DatasetLandmarks.Zoo, zooHome: zooHome)
            : d;
}
