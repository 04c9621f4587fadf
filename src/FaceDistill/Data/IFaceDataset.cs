namespace FaceDistill.Data;

/// <summary>
/// A random-access collection of face images with labels. Labels are cheap (held in memory); images are produced on
/// demand (decoded from disk, or rendered by the synthetic generator), from any thread.
/// </summary>
public interface IFaceDataset
{
    int Count { get; }

    /// <summary>Number of classes per task, where known (identities, 7 expressions, 2 genders).</summary>
    int ClassCount(FaceTask task);
    FaceLabels Labels(int index);

    /// <summary>Produces the image; throws <see cref="Core.FaceDistillException"/> naming the file when it
    /// cannot.</summary>
    RgbImage Image(int index);

    /// <summary>A name for messages and reports: the file path, or "synthetic #i".</summary>
    string Describe(int index);

    /// <summary>The image with its 68 landmarks (x0, y0 … x67, y67 in pixels) where known — what occluded views are
    /// drawn from. Datasets that learn the landmarks while producing the image (the synthetic renderer) override
    /// this.</summary>
    (RgbImage Image, float[]? Landmarks) Load(int index) => (Image(index), Labels(index).Landmarks);
}

/// <summary>A view of a dataset restricted to some indices (train/val splits).</summary>
public sealed class SubsetDataset(IFaceDataset inner, IReadOnlyList<int> indices) : IFaceDataset
{
    public IFaceDataset Inner { get; } = inner;
    public IReadOnlyList<int> Indices { get; } = indices;
    public int Count => Indices.Count;

    public int ClassCount(FaceTask task) => Inner.ClassCount(task);

    public FaceLabels Labels(int index) => Inner.Labels(Indices[index]);

    public RgbImage Image(int index) => Inner.Image(Indices[index]);

    public string Describe(int index) => Inner.Describe(Indices[index]);

    public (RgbImage Image, float[]? Landmarks) Load(int index) => Inner.Load(Indices[index]);
}
