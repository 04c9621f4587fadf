using FaceDistill.Core;

namespace FaceDistill.Data;

/// <summary>
/// A face pool in which some folders are known to hold one person per subfolder (<c>data.identities</c>: CelebA-299's
/// identity folders, glint6's, ORL's): their faces carry that identity as a label, every other face none (−1). The
/// classes are the (folder, subfolder) pairs in sorted order, numbered from 0, so the same folders always give the
/// same numbering; a face directly in an identity folder (not in a subfolder) has no identity. Images, landmarks and
/// names are the inner pool's, so a teacher's cache over the pool is shared with the label-free runs.
/// </summary>
public sealed class PoolIdentities : IFaceDataset
{
    private readonly IFaceDataset _inner;
    private readonly int[] _identity;

    /// <summary>Names of the classes, "folder/subfolder", in class order.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>How many of the pool's faces carry an identity.</summary>
    public int Labelled { get; }

    public PoolIdentities(IFaceDataset pool, IReadOnlyList<string> identityFolders)
    {
        _inner = pool;
        var roots = identityFolders.Select(f => Path.GetFullPath(f).TrimEnd('/') + "/").ToArray();
        var key = new string?[pool.Count];
        for (int i = 0; i < pool.Count; i++)
        {
            var path = Path.GetFullPath(pool.Describe(i));
            foreach (var root in roots)
            {
                if (!path.StartsWith(root, StringComparison.Ordinal))
                    continue;
                int slash = path.IndexOf('/', root.Length);
                if (slash > root.Length)
                    key[i] = $"{Path.GetFileName(root.TrimEnd('/'))}/{path[root.Length..slash]}";
                break;
            }
        }
        Classes = key.OfType<string>().Distinct().Order(StringComparer.Ordinal).ToList();
        if (Classes.Count < 2)
            throw FaceDistillException.ForFile(
                identityFolders[0],
                $"data.identities: {Classes.Count} identity subfolder(s) among the pool's faces; a margin loss "
                    + "needs at least 2 (each listed folder must be one of data.pool, one subfolder per person)"
            );
        var index = Classes.Select((c, k) => (c, k)).ToDictionary(p => p.c, p => p.k);
        _identity = key.Select(k => k is null ? -1 : index[k]).ToArray();
        Labelled = _identity.Count(i => i >= 0);
    }

    public int Count => _inner.Count;

    public int ClassCount(FaceTask task) => task == FaceTask.Recognition ? Classes.Count : 0;

    public FaceLabels Labels(int index) => _inner.Labels(index) with { Identity = _identity[index] };

    public RgbImage Image(int index) => _inner.Image(index);

    public string Describe(int index) => _inner.Describe(index);

    public (RgbImage Image, float[]? Landmarks) Load(int index) => _inner.Load(index);
}
