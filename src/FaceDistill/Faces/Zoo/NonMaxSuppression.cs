namespace FaceDistill.Faces.Zoo;

/// <summary>Greedy non-maximum suppression, in the two flavours face-api uses (faceapi/SPEC.md §4, §5).</summary>
public static class NonMaxSuppression
{
    /// <summary>The tiny detector's (<c>ops/nonMaxSuppression</c>): stable-sort ascending by score, repeatedly pop the
    /// highest and drop every remaining box with IoU &gt; <paramref name="iouThreshold"/>. No cap on the count.
    /// </summary>
    public static List<int> Greedy(IReadOnlyList<FaceBox> boxes, IReadOnlyList<double> scores, double iouThreshold)
    {
        var order = Enumerable.Range(0, boxes.Count).OrderBy(i => scores[i]).ToList();
        var pick = new List<int>();
        while (order.Count > 0)
        {
            int cur = order[^1];
            order.RemoveAt(order.Count - 1);
            pick.Add(cur);
            order = order.Where(i => FaceBox.IoU(boxes[cur], boxes[i]) <= iouThreshold).ToList();
        }
        return pick;
    }

    /// <summary>SSD's (<c>ssdMobilenetv1/nonMaxSuppression</c>): candidates with score &gt; <paramref
    /// name="minScore"/>, stable-sorted by descending score; a candidate is taken unless its IoU with an already taken
    /// box exceeds <paramref name="iouThreshold"/>; stop at <paramref name="maxResults"/>. Boxes as <c>[ymin, xmin,
    /// ymax, xmax]</c>; corner order is normalised and a degenerate box has IoU 0.</summary>
    public static List<int> Ssd(
        IReadOnlyList<double[]> boxes,
        IReadOnlyList<double> scores,
        int maxResults,
        double iouThreshold,
        double minScore
    )
    {
        var candidates = Enumerable
            .Range(0, scores.Count)
            .Where(i => scores[i] > minScore)
            .OrderByDescending(i => scores[i])
            .ToList();
        var selected = new List<int>();
        foreach (var c in candidates)
        {
            if (selected.Count >= Math.Min(maxResults, boxes.Count))
                break;
            if (!selected.Any(j => IoUCorners(boxes[c], boxes[j]) > iouThreshold))
                selected.Add(c);
        }
        return selected;
    }

    private static double IoUCorners(double[] a, double[] b)
    {
        double ay0 = Math.Min(a[0], a[2]),
            ax0 = Math.Min(a[1], a[3]),
            ay1 = Math.Max(a[0], a[2]),
            ax1 = Math.Max(a[1], a[3]);
        double by0 = Math.Min(b[0], b[2]),
            bx0 = Math.Min(b[1], b[3]),
            by1 = Math.Max(b[0], b[2]),
            bx1 = Math.Max(b[1], b[3]);
        double areaA = (ay1 - ay0) * (ax1 - ax0),
            areaB = (by1 - by0) * (bx1 - bx0);
        if (areaA <= 0 || areaB <= 0)
            return 0;
        double inter =
            Math.Max(Math.Min(ay1, by1) - Math.Max(ay0, by0), 0) * Math.Max(Math.Min(ax1, bx1) - Math.Max(ax0, bx0), 0);
        return inter / (areaA + areaB - inter);
    }
}
