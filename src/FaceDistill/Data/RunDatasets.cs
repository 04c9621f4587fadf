namespace FaceDistill.Data;

/// <summary>
/// The data of a run: the training set, and what it is evaluated on — verification pairs of held-out identities for
/// recognition, a held-out split for the attribute tasks. Built from a config by <c>Runs.RunData</c>.
/// </summary>
public sealed class RunDatasets
{
    public required IFaceDataset Train { get; init; }
    public IFaceDataset? Validation { get; init; }
    public PairList? Pairs { get; init; }
    public required int Classes { get; init; }
    public double AgeMean { get; init; } = 30;
    public double EvalCenterCrop { get; init; } = 1.0;

    /// <summary>Renumbers identities of a subset to 0..K-1 (class indices for the margin head).</summary>
    public static IFaceDataset Reindex(IFaceDataset d) => new ReindexedIdentities(d);

    private sealed class ReindexedIdentities : IFaceDataset
    {
        private readonly IFaceDataset _inner;
        private readonly Dictionary<int, int> _map;

        public ReindexedIdentities(IFaceDataset inner)
        {
            _inner = inner;
            _map = Enumerable
                .Range(0, inner.Count)
                .Select(i => inner.Labels(i).Identity)
                .Where(x => x >= 0)
                .Distinct()
                .OrderBy(x => x)
                .Select((id, k) => (id, k))
                .ToDictionary(t => t.id, t => t.k);
        }

        public int Count => _inner.Count;

        public int ClassCount(FaceTask task) => task == FaceTask.Recognition ? _map.Count : _inner.ClassCount(task);

        public FaceLabels Labels(int index)
        {
            var l = _inner.Labels(index);
            return l with { Identity = l.Identity >= 0 ? _map[l.Identity] : -1 };
        }

        public RgbImage Image(int index) => _inner.Image(index);

        public string Describe(int index) => _inner.Describe(index);

        public (RgbImage Image, float[]? Landmarks) Load(int index) => _inner.Load(index);
    }
}
