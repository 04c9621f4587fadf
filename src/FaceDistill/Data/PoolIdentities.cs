using FaceDistill.Core;

namespace FaceDistill.Data;

/// <summary>
/// A face pool in which some folders are known to hold one person per subfolder (<c>data.identities</c>: CelebA-299's
/// identity folders, glint6's, ORL's): their faces carry that identity as a label, every other face none (−1). The
/// classes are the (folder, subfolder) pairs sorted by "folder/subfolder", numbered from 0, so the same folders
/// always give the same numbering (two listed folders of the same name stay apart); a face directly in an identity
/// folder (not in a subfolder) has no identity. Images, landmarks and names are the inner pool's, so a teacher's
/// cache over the pool is shared with the label-free runs.
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
        var roots = identityFolders.Select(f => Path.GetFullPath(f).TrimEnd('/') + "/").Distinct().ToArray();
        var key = new (int Root, string Person)?[pool.Count];
        for (int i = 0; i < pool.Count; i++)
        {
            var path = Path.GetFullPath(pool.Describe(i));
            for (int r = 0; r < roots.Length; r++)
            {
                if (!path.StartsWith(roots[r], StringComparison.Ordinal))
                    continue;
                int slash = path.IndexOf('/', roots[r].Length);
                if (slash > roots[r].Length)
                    key[i] = (r, path[roots[r].Length..slash]);
                break;
            }
        }
        string Name((int Root, string Person) k) => $"{Path.GetFileName(roots[k.Root].TrimEnd('/'))}/{k.Person}";
        var classes = key.OfType<(int Root, string Person)>()
            .Distinct()
            .OrderBy(Name, StringComparer.Ordinal)
            .ThenBy(k => k.Root)
            .ToList();
        Classes = classes.Select(Name).ToList();
        if (Classes.Count < 2)
            throw FaceDistillException.ForFile(
                identityFolders[0],
                $"data.identities: {Classes.Count} identity subfolder(s) among the pool's faces; a margin loss "
                    + "needs at least 2 (each listed folder must be one of data.pool, one subfolder per person)"
            );
        var index = classes.Select((c, k) => (c, k)).ToDictionary(p => p.c, p => p.k);
        _identity = key.Select(k => k is { } c ? index[c] : -1).ToArray();
        Labelled = _identity.Count(i => i >= 0);
    }

    public int Count => _inner.Count;

    public int ClassCount(FaceTask task) => task == FaceTask.Recognition ? Classes.Count : 0;

    public FaceLabels Labels(int index) => _inner.Labels(index) with { Identity = _identity[index] };

    public RgbImage Image(int index) => _inner.Image(index);

    public string Describe(int index) => _inner.Describe(index);

    public (RgbImage Image, float[]? Landmarks) Load(int index) => _inner.Load(index);
}
