using System.Security.Cryptography;
using System.Text;

namespace FaceDistill.Data;

/// <summary>What a value computed from a dataset depends on, as a hex key: the given parts (a model's or teacher's
/// identity, the preprocessing), the image count, and every image's name with its file size and modification time —
/// so changing the weights, the data or the preprocessing selects a new cache file and a stale one is never
/// read.</summary>
public static class DatasetFingerprint
{
    public static string Of(IFaceDataset data, int hexChars, params string[] parts)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string s)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(s));
            sha.AppendData([0]);
        }
        foreach (var p in parts)
            Add(p);
        Add(data.Count.ToString());
        for (int i = 0; i < data.Count; i++)
        {
            var d = data.Describe(i);
            Add(d);
            if (File.Exists(d))
            {
                var fi = new FileInfo(d);
                Add($"{fi.Length}:{fi.LastWriteTimeUtc.Ticks}");
            }
        }
        return Convert.ToHexString(sha.GetHashAndReset())[..hexChars].ToLowerInvariant();
    }
}
