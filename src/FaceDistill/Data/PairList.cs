using System.Globalization;
using FaceDistill.Core;

namespace FaceDistill.Data;

/// <summary>One verification pair: indices into <see cref="PairList.Images"/>, ground truth, and its fold.</summary>
public readonly record struct FacePair(int A, int B, bool Same, int Fold);

/// <summary>Verification pairs over a set of images. Reads LFW's <c>pairs.txt</c> (View 2: header <c>folds n</c>, then
/// per fold <c>n</c> lines <c>Name i j</c> (same) and <c>n</c> lines <c>NameA i NameB j</c> (different); images at
/// <c>root/Name/Name_0001.jpg</c>, or .png for aligned copies), and makes balanced pairs for a labelled dataset (the
/// synthetic held-out identities).</summary>
public sealed class PairList
{
    public IFaceDataset Images { get; }
    public IReadOnlyList<FacePair> Pairs { get; }
    public int Folds { get; }

    public PairList(IFaceDataset images, IReadOnlyList<FacePair> pairs, int folds)
    {
        Images = images;
        Pairs = pairs;
        Folds = folds;
    }

    /// <summary>Extensions tried for <c>Name_0001</c>, in order: LFW's own JPEGs, then the PNGs <c>facedistill
    /// align</c> writes.</summary>
    private static readonly string[] ImageExtensions = [".jpg", ".png", ".jpeg"];

    public PairList WithImages(IFaceDataset images)
    {
        if (images.Count != Images.Count)
            throw new ArgumentException("the new image set must have the same images");
        return new PairList(images, Pairs, Folds);
    }

    public static PairList LoadLfw(string pairsPath, string imagesRoot)
    {
        if (!File.Exists(pairsPath))
            throw FaceDistillException.ForFile(pairsPath, "pair list not found");
        if (!Directory.Exists(imagesRoot))
            throw FaceDistillException.ForFile(imagesRoot, "image directory of the pair list not found");
        var lines = File.ReadAllLines(pairsPath).Where(l => l.Trim().Length > 0).ToArray();
        if (lines.Length == 0)
            throw FaceDistillException.ForFile(pairsPath, "pair list is empty");
        var head = lines[0].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        int folds,
            perClass;
        if (
            head.Length == 2
            && int.TryParse(head[0], out folds)
            && int.TryParse(head[1], out perClass)
            && folds > 0
            && perClass > 0
        ) { }
        else if (head.Length == 1 && int.TryParse(head[0], out perClass) && perClass > 0)
            folds = 1;
        else
            throw FaceDistillException.ForFile(
                pairsPath,
                $"line 1: expected a header 'folds pairs_per_class', found '{lines[0].Trim()}'"
            );
        int expected = folds * perClass * 2;
        if (lines.Length - 1 != expected)
            throw FaceDistillException.ForFile(
                pairsPath,
                $"header promises {folds} folds x {perClass} x 2 = {expected} pairs, file has {lines.Length - 1}"
            );

        var paths = new List<string>();
        var indexOf = new Dictionary<string, int>();
        int Image(string name, string number, int ln)
        {
            if (!int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var k) || k <= 0)
                throw FaceDistillException.ForFile(pairsPath, $"line {ln}: '{number}' is not an image number");
            var stem = Path.Combine(imagesRoot, name, $"{name}_{k:D4}");
            var p = ImageExtensions.Select(e => stem + e).FirstOrDefault(File.Exists) ?? stem + ImageExtensions[0];
            if (!indexOf.TryGetValue(p, out var idx))
            {
                if (!File.Exists(p))
                    throw FaceDistillException.ForFile(pairsPath, $"line {ln}: image {p} not found");
                indexOf[p] = idx = paths.Count;
                paths.Add(p);
            }
            return idx;
        }
        var pairs = new List<FacePair>(expected);
        for (int i = 1; i < lines.Length; i++)
        {
            var f = lines[i].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            int fold = (i - 1) / (2 * perClass);
            bool shouldBeSame = (i - 1) % (2 * perClass) < perClass;
            if (f.Length == 3)
            {
                if (!shouldBeSame)
                    throw FaceDistillException.ForFile(
                        pairsPath,
                        $"line {i + 1}: a same-identity pair where fold {fold + 1} expects different-identity pairs"
                    );
                var (a, b) = (Image(f[0], f[1], i + 1), Image(f[0], f[2], i + 1));
                if (a == b)
                    throw FaceDistillException.ForFile(
                        pairsPath,
                        $"line {i + 1}: compares image {f[1]} of {f[0]} with itself"
                    );
                pairs.Add(new FacePair(a, b, true, fold));
            }
            else if (f.Length == 4)
            {
                if (f[0] == f[2])
                    throw FaceDistillException.ForFile(
                        pairsPath,
                        $"line {i + 1}: a different-identity pair names {f[0]} on both sides"
                    );
                if (shouldBeSame)
                    throw FaceDistillException.ForFile(
                        pairsPath,
                        $"line {i + 1}: a different-identity pair where fold {fold + 1} expects same-identity pairs"
                    );
                pairs.Add(new FacePair(Image(f[0], f[1], i + 1), Image(f[2], f[3], i + 1), false, fold));
            }
            else
                throw FaceDistillException.ForFile(
                    pairsPath,
                    $"line {i + 1}: expected 'Name i j' or 'NameA i NameB j', found '{lines[i].Trim()}'"
                );
        }
        var items = paths.Select(p => (p, new FaceLabels())).ToList();
        return new PairList(new FileFaceDataset(imagesRoot, items, new()), pairs, folds);
    }

    /// <summary>
    /// Balanced pairs from identity labels: per fold, <paramref name="perClassPerFold"/> same-identity and as many
    /// different-identity pairs, drawn deterministically from <paramref name="seed"/>. Identities are assigned to folds
    /// disjointly where there are enough of them, as in LFW's View 2.
    /// </summary>
    public static PairList FromIdentities(IFaceDataset images, int folds, int perClassPerFold, int seed)
    {
        var byId = Enumerable
            .Range(0, images.Count)
            .GroupBy(i => images.Labels(i).Identity)
            .Where(g => g.Key >= 0)
            .OrderBy(g => g.Key)
            .Select(g => g.ToArray())
            .ToList();
        if (byId.Count < 2)
            throw new FaceDistillException("pair generation needs at least 2 labelled identities");
        var rng = new Random(seed);
        var order = Seeds.Permutation(byId.Count, seed);
        var pairs = new List<FacePair>();
        for (int fold = 0; fold < folds; fold++)
        {
            // identities of this fold (disjoint across folds when there are at least 2 per fold)
            var ids =
                byId.Count >= 2 * folds ? order.Where((_, k) => k % folds == fold).Select(k => byId[k]).ToList() : byId;
            var multi = ids.Where(g => g.Length >= 2).ToList();
            if (multi.Count == 0)
                throw new FaceDistillException("pair generation needs identities with at least 2 images");
            for (int k = 0; k < perClassPerFold; k++)
            {
                var g = multi[rng.Next(multi.Count)];
                int a = rng.Next(g.Length),
                    b = rng.Next(g.Length - 1);
                if (b >= a)
                    b++;
                pairs.Add(new FacePair(g[a], g[b], true, fold));
            }
            for (int k = 0; k < perClassPerFold; k++)
            {
                int ga = rng.Next(ids.Count),
                    gb = rng.Next(ids.Count - 1);
                if (gb >= ga)
                    gb++;
                pairs.Add(
                    new FacePair(ids[ga][rng.Next(ids[ga].Length)], ids[gb][rng.Next(ids[gb].Length)], false, fold)
                );
            }
        }
        return new PairList(images, pairs, folds);
    }
}
