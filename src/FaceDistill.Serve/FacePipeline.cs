using FaceDistill.Data;
using FaceDistill.Faces;
using FaceDistill.Faces.Zoo;

namespace FaceDistill.Serve;

/// <summary>One face found in an image: its detection, the five points of its 68 landmarks (eye centres, nose tip,
/// mouth corners) and the aligned crop as the model's input — aligned from <see cref="FaceAnalyzer.AlignmentPoints"/>
/// (BlazeFace's four keypoints, or those five points, or the box's when they are implausible).</summary>
public sealed record FoundFace(FaceDetection Detection, Point2[] FivePoints, float[] Input);

/// <summary>
/// Image → faces as the served model wants them: the zoo detector (by default the auto chain: BlazeFace, SSD MobileNet
/// v1, the tiny detector), face-api's 68 landmarks, the ArcFace similarity warp to 112 × 112 from the analyzer's
/// alignment points (<see cref="FaceAligner"/>, the alignment the <c>align</c> command and the training sets use), then
/// the model's centre crop and input side, (x − 127.5)/127.5.
/// </summary>
public sealed class FacePipeline(FaceAnalyzer zoo, int inputSize, double centerCrop, bool grayscale)
{
    public FaceAnalyzer Zoo { get; } = zoo;

    public List<FoundFace> Find(RgbImage image)
    {
        var detections = Zoo.Detect(image);
        if (detections.Count == 0)
            return [];
        var faces = new List<FoundFace>();
        foreach (var (det, _, lm) in Zoo.Locate(image, detections))
        {
            var points = Zoo.AlignmentPoints(det, lm, out _);
            var crop = FaceAligner.Align(image, points, 112);
            if (grayscale)
                crop = GrayscaleDataset.Gray(crop);
            var input = new float[3 * inputSize * inputSize];
            Augment.ToTensorData(crop, inputSize, centerCrop, AugmentOptions.None, null, input);
            faces.Add(new FoundFace(det, lm.FivePoints(), input));
        }
        return faces;
    }
}
