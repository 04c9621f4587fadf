namespace FaceDistill.Data;

/// <summary>A dataset with every label hidden (identity, expression, gender −1, age NaN, no soft label; landmarks
/// kept): faces that teach through a teacher only (<c>data.unlabelled</c>). Its class count is 0, so it never adds
/// classes to the set it joins.</summary>
public sealed class UnlabelledDataset(IFaceDataset inner) : IFaceDataset
{
    public int Count => inner.Count;

    public int ClassCount(FaceTask task) => 0;

    public FaceLabels Labels(int index) => new(Landmarks: inner.Labels(index).Landmarks);

    public RgbImage Image(int index) => inner.Image(index);

    public string Describe(int index) => inner.Describe(index);

    public (RgbImage Image, float[]? Landmarks) Load(int index) => inner.Load(index);
}
