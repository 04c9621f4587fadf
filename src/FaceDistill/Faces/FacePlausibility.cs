using FaceDistill.Faces.Zoo;

namespace FaceDistill.Faces;

/// <summary>
/// Whether alignment points (four: eye centres, nose tip, mouth centre; or five: … mouth corners) are a plausible face
/// for the detector's box — the check that keeps a crop aligned from landmarks that slid off an occluded face out of
/// the pipeline. With L = the box's longer side, eyes e₁ (image-left) and e₂, and n the unit normal of the eye line
/// pointing down the face, the points are plausible when
/// <code>
///   0.15·L ≤ ‖e₂ − e₁‖ ≤ 0.9·L             (the eyes neither collapse nor spread past the box)
///   |roll| = |atan2(e₂.y − e₁.y, e₂.x − e₁.x)| ≤ 60°
///   every point inside the box grown by 25 % of L on every side
///   0.2·‖e₂ − e₁‖ ≤ (p − ē)·n for the nose and the mouth point(s), the mouth below the nose
/// </code>
/// Otherwise the face is aligned from <see cref="BoxPoints"/>: the template's points laid on the box's centred square.
/// </summary>
public static class FacePlausibility
{
    public static bool Plausible(IReadOnlyList<Point2> points, FaceBox box)
    {
        if (points.Count is not (4 or 5) || points.Any(p => !double.IsFinite(p.X) || !double.IsFinite(p.Y)))
            return false;
        double side = Math.Max(box.Width, box.Height);
        var (e1, e2) = (points[0], points[1]);
        double eyes = e1.DistanceTo(e2);
        if (eyes < 0.15 * side || eyes > 0.9 * side)
            return false;
        double roll = Math.Atan2(e2.Y - e1.Y, e2.X - e1.X);
        if (Math.Abs(roll) > Math.PI / 3)
            return false;
        double grow = 0.25 * side;
        if (
            points.Any(p =>
                p.X < box.X - grow
                || p.Y < box.Y - grow
                || p.X > box.X + box.Width + grow
                || p.Y > box.Y + box.Height + grow
            )
        )
            return false;
        // the unit normal of the eye line, pointing down the face (image y grows downwards)
        double nx = -(e2.Y - e1.Y) / eyes,
            ny = (e2.X - e1.X) / eyes;
        var mid = new Point2((e1.X + e2.X) / 2, (e1.Y + e2.Y) / 2);
        double Down(Point2 p) => (p.X - mid.X) * nx + (p.Y - mid.Y) * ny;
        double nose = Down(points[2]);
        double mouth = points.Skip(3).Average(Down);
        return nose >= 0.2 * eyes && mouth > nose;
    }

    /// <summary>The five template points (<see cref="FaceAligner.ArcFaceTemplate"/>) laid on the square of the box's
    /// longer side, centred on the box: the alignment of a face whose points are not trusted.</summary>
    public static Point2[] BoxPoints(FaceBox box)
    {
        double side = Math.Max(box.Width, box.Height);
        double x0 = box.X + box.Width / 2 - side / 2,
            y0 = box.Y + box.Height / 2 - side / 2;
        return FaceAligner
            .ArcFaceTemplate.Select(p => new Point2(x0 + p.X / 112 * side, y0 + p.Y / 112 * side))
            .ToArray();
    }
}
