namespace FaceDistill.Data;

/// <summary>Datasets one after another (a training set and its extra folders): index i is the i-th image of the first,
/// then of the second, and so on; class counts are the largest of the parts.</summary>
public sealed class ConcatDataset : IFaceDataset
{
    private readonly IReadOnlyList<IFaceDataset> _parts;
    private readonly int[] _starts;

    public ConcatDataset(IReadOnlyList<IFaceDataset> parts)
    {
        if (parts.Count == 0)
            throw new ArgumentException("no datasets to concatenate", nameof(parts));
        _parts = parts;
        _starts = new int[parts.Count + 1];
        for (int k = 0; k < parts.Count; k++)
            _starts[k + 1] = checked(_starts[k] + parts[k].Count);
    }

    public IReadOnlyList<IFaceDataset> Parts => _parts;
    public int Count => _starts[^1];

    public int ClassCount(FaceTask task) => _parts.Max(p => p.ClassCount(task));

    private (IFaceDataset Part, int Index) Locate(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index));
        int k = Array.BinarySearch(_starts, index);
        k = k >= 0 ? k : ~k - 1;
        while (_starts[k + 1] == index)
            k++;
        return (_parts[k], index - _starts[k]);
    }

    public FaceLabels Labels(int index)
    {
        var (p, i) = Locate(index);
        return p.Labels(i);
    }

    public RgbImage Image(int index)
    {
        var (p, i) = Locate(index);
        return p.Image(i);
    }

    public string Describe(int index)
    {
        var (p, i) = Locate(index);
        return p.Describe(i);
    }

    public (RgbImage Image, float[]? Landmarks) Load(int index)
    {
        var (p, i) = Locate(index);
        return p.Load(i);
    }
}
