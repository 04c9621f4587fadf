using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Faces.Zoo;
using static TorchSharp.torch;

namespace FaceDistill.Faces;

/// <summary>Everything the zoo says about one face.</summary>
public sealed record FaceAnalysis(
    FaceDetection Detection,
    FaceLandmarks Landmarks,
    FaceBox AlignedRect,
    float[] Expressions,
    double Age,
    string Gender,
    double GenderProbability,
    float[] Descriptor,
    CropRect LandmarkCrop,
    CropRect AlignedCrop,
    CropRect DescriptorCrop
)
{
    public string Expression => FaceExpressionNet.Labels[Array.IndexOf(Expressions, Expressions.Max())];
}

/// <summary>The face detectors of the zoo: face-api's SSD MobileNet v1 and tiny detector, and human's BlazeFace
/// (<see cref="Zoo.BlazeFace"/>).</summary>
public enum FaceDetectorKind
{
    Ssd,
    Tiny,
    BlazeFace,

    /// <summary>A fallback chain: BlazeFace, then SSD where it finds nothing, then the tiny detector
    /// (docs/results/frontend.md: the order of the detectors on masked photos).</summary>
    Auto,
}

/// <summary>The detectors by the names options and plans use.</summary>
public static class FaceDetectors
{
    public static readonly string[] Names = ["ssd", "tiny", "blazeface", "auto"];

    /// <summary>What the commands and plan steps use unless told: the chain that finds the most faces under a mask
    /// (docs/results/frontend.md).</summary>
    public const string Default = "auto";

    /// <summary>The detector called <paramref name="name"/>; an unknown name is an error naming
    /// <paramref name="what"/> (the option or key).</summary>
    public static FaceDetectorKind Parse(string name, string what = "--detector") =>
        name switch
        {
            "ssd" => FaceDetectorKind.Ssd,
            "tiny" => FaceDetectorKind.Tiny,
            "blazeface" => FaceDetectorKind.BlazeFace,
            "auto" => FaceDetectorKind.Auto,
            _ => throw new FaceDistillException($"{what}: '{name}' is not one of {string.Join(", ", Names)}"),
        };
}

/// <summary>face-api's full pipeline (<c>detectAllFaces().withFaceLandmarks().withFaceExpressions().withAgeAndGender()
/// .withFaceDescriptors()</c>, faceapi/SPEC.md §6) on the TorchSharp ports: detect → 68 landmarks on the clipped,
/// floored detection crop (shifted back by the unfloored box) → expression and age/gender on the <c>alignedRect</c>
/// crop → descriptor on the dlib-aligned crop. All faces of an image go through each net as one batch. Nets load lazily
/// from the model cache.</summary>
public sealed class FaceAnalyzer : IDisposable
{
    private readonly string? _home;
    private SsdMobilenetV1? _ssd;
    private TinyFaceDetector? _tiny;
    private BlazeFace? _blaze;
    private FaceLandmark68Net? _landmarks;
    private FaceExpressionNet? _expression;
    private AgeGenderNet? _ageGender;
    private FaceRecognitionNet? _recognition;

    public FaceDetectorKind Detector { get; init; } = FaceDetectorKind.Ssd;
    public bool TinyLandmarks { get; init; }

    /// <summary>Align a face from its detector's own keypoints (BlazeFace's eyes, nose tip, mouth centre) where the
    /// detection has them, instead of the five points of its 68 landmarks (<see cref="AlignmentPoints"/>).</summary>
    public bool AlignFromKeypoints { get; init; }

    /// <summary>A landmark student (<see cref="LandmarkStudent"/>) that replaces face-api's 68-point net in
    /// <see cref="Locate"/>; null: face-api's net.</summary>
    public LandmarkStudent? Student { get; init; }
    public double MinConfidence { get; init; } = 0.5;
    public int TinyInputSize { get; init; } = 416;

    public FaceAnalyzer(string? home = null)
    {
        _home = home;
    }

    public SsdMobilenetV1 Ssd => _ssd ??= SsdMobilenetV1.Load(_home);
    public TinyFaceDetector Tiny => _tiny ??= TinyFaceDetector.Load(_home);
    public BlazeFace Blaze => _blaze ??= BlazeFace.Load(_home);
    public FaceLandmark68Net Landmarks => _landmarks ??= FaceLandmark68Net.Load(TinyLandmarks, _home);
    public FaceExpressionNet Expression => _expression ??= FaceExpressionNet.Load(_home);
    public AgeGenderNet AgeGender => _ageGender ??= AgeGenderNet.Load(_home);
    public FaceRecognitionNet Recognition => _recognition ??= FaceRecognitionNet.Load(_home);

    public List<FaceDetection> Detect(RgbImage image) => Detect(image, Detector);

    private List<FaceDetection> Detect(RgbImage image, FaceDetectorKind kind) =>
        kind switch
        {
            FaceDetectorKind.Ssd => Ssd.Detect(image, MinConfidence),
            FaceDetectorKind.Tiny => Tiny.Detect(image, TinyInputSize, MinConfidence),
            FaceDetectorKind.BlazeFace => Blaze
                .Detect(image, MinConfidence)
                .Select(d => new FaceDetection(d.Score, d.Box, d.Keypoints.Take(4).ToArray()))
                .ToList(),
            _ => Detect(image, FaceDetectorKind.BlazeFace) is { Count: > 0 } blaze ? blaze
            : Detect(image, FaceDetectorKind.Ssd) is { Count: > 0 } ssd ? ssd
            : Detect(image, FaceDetectorKind.Tiny),
        };

    /// <summary>Loads the chosen detector now (a missing zoo is an error here, not at the first image).</summary>
    public void LoadDetector() =>
        _ = Detector switch
        {
            FaceDetectorKind.Ssd => (object)Ssd,
            FaceDetectorKind.Tiny => Tiny,
            FaceDetectorKind.BlazeFace => Blaze,
            _ => (Blaze, Ssd, Tiny),
        };

    /// <summary>Landmarks for each detection (empty crops are skipped, as face-api does).</summary>
    public List<(FaceDetection Detection, CropRect Crop, FaceLandmarks Landmarks)> Locate(
        RgbImage image,
        IReadOnlyList<FaceDetection> detections
    )
    {
        var kept = detections
            .Select(d => (d, crop: d.Box.ClipAndFloor(image.Width, image.Height)))
            .Where(t => !t.crop.IsEmpty)
            .ToList();
        if (kept.Count == 0)
            return [];
        if (Student is not null)
            return Student
                .Locate(image, kept.Select(t => t.d.Box).ToList())
                .Select((l, i) => (kept[i].d, kept[i].crop, l))
                .ToList();
        var crops = kept.Select(t => image.Crop(t.crop.X, t.crop.Y, t.crop.Width, t.crop.Height)).ToList();
        using var batch = NetInput.ToBatch(
            crops,
            FaceLandmark68Net.InputSize,
            centered: true,
            ZooNormalization.FaceMean
        );
        using var fc = Landmarks.Forward(batch);
        var raw = fc.data<float>().ToArray();
        return kept.Select(
                (t, i) => (t.d, t.crop, FaceLandmarks.FromNetOutput(raw.AsSpan(i * 136, 136), t.crop, t.d.Box))
            )
            .ToList();
    }

    /// <summary>The points a face is aligned from (<see cref="FaceAligner.ToTemplate"/>): the detection's four
    /// keypoints when <see cref="AlignFromKeypoints"/> and it has them, else the five of its 68 landmarks; and when
    /// their geometry is implausible for the box (<see cref="FacePlausibility"/>), the box's own points instead
    /// (<paramref name="fromBox"/> true).</summary>
    public Point2[] AlignmentPoints(FaceDetection detection, FaceLandmarks landmarks, out bool fromBox)
    {
        var points =
            AlignFromKeypoints && detection.Keypoints is { Count: 4 } k
                ? k.Select(p => new Point2(p.X, p.Y)).ToArray()
                : landmarks.FivePoints();
        fromBox = !FacePlausibility.Plausible(points, detection.Box);
        return fromBox ? FacePlausibility.BoxPoints(detection.Box) : points;
    }

    public List<FaceAnalysis> Analyze(RgbImage image) => Analyze(image, Detect(image));

    public List<FaceAnalysis> Analyze(RgbImage image, IReadOnlyList<FaceDetection> detections)
    {
        var located = Locate(image, detections);
        return Finish(located.Select(_ => image).ToList(), located);
    }

    /// <summary>Expression, age/gender and descriptor for located faces (face i lies in images[i]), one batch per
    /// net.</summary>
    private List<FaceAnalysis> Finish(
        IReadOnlyList<RgbImage> images,
        IReadOnlyList<(FaceDetection Detection, CropRect Crop, FaceLandmarks Landmarks)> located
    )
    {
        if (located.Count == 0)
            return [];
        var aligned = located.Select(l => l.Landmarks.AlignedRect()).ToList();
        var alignedCrops = aligned.Select((b, i) => b.ClipAndFloor(images[i].Width, images[i].Height)).ToList();
        var dlibCrops = located
            .Select(
                (l, i) =>
                    l.Landmarks.DlibRect(l.Crop.Width, l.Crop.Height).ClipAndFloor(images[i].Width, images[i].Height)
            )
            .ToList();
        // A degenerate crop (landmarks off the image) falls back to the landmark crop rather than failing the batch.
        for (int i = 0; i < located.Count; i++)
        {
            if (alignedCrops[i].IsEmpty)
                alignedCrops[i] = located[i].Crop;
            if (dlibCrops[i].IsEmpty)
                dlibCrops[i] = located[i].Crop;
        }

        var alignedImages = alignedCrops.Select((c, i) => images[i].Crop(c.X, c.Y, c.Width, c.Height)).ToList();
        using var x112 = NetInput.ToBatch(
            alignedImages,
            FaceExpressionNet.InputSize,
            centered: true,
            ZooNormalization.FaceMean
        );
        using var logits = Expression.Forward(x112);
        using var probs = logits.softmax(1);
        var expr = probs.data<float>().ToArray();
        var (ageT, genderT) = AgeGender.Forward(x112);
        float[] ages,
            genders;
        using (ageT)
        using (genderT)
        using (var gp = genderT.softmax(1))
        {
            ages = ageT.data<float>().ToArray();
            genders = gp.data<float>().ToArray();
        }

        var dlibImages = dlibCrops.Select((c, i) => images[i].Crop(c.X, c.Y, c.Width, c.Height)).ToList();
        using var x150 = NetInput.ToBatch(
            dlibImages,
            FaceRecognitionNet.InputSize,
            centered: true,
            ZooNormalization.FaceMean
        );
        using var desc = Recognition.Forward(x150);
        var d = desc.data<float>().ToArray();

        int e = FaceExpressionNet.Labels.Length,
            k = FaceRecognitionNet.DescriptorSize;
        return located
            .Select(
                (l, i) =>
                {
                    double pMale = genders[2 * i];
                    return new FaceAnalysis(
                        l.Detection,
                        l.Landmarks,
                        aligned[i],
                        expr.AsSpan(i * e, e).ToArray(),
                        ages[i],
                        pMale > 0.5 ? "male" : "female",
                        Math.Max(pMale, 1 - pMale),
                        d.AsSpan(i * k, k).ToArray(),
                        l.Crop,
                        alignedCrops[i],
                        dlibCrops[i]
                    );
                }
            )
            .ToList();
    }

    /// <summary>
    /// For datasets of face crops (FER2013, UTKFace): each image is taken as one detection covering the whole image,
    /// then the usual landmarks → alignedRect / dlib crops → nets, all images of the list in one batch per net.
    /// </summary>
    public List<FaceAnalysis> AnalyzeFaceCrops(IReadOnlyList<RgbImage> crops)
    {
        var results = new List<FaceAnalysis>(crops.Count);
        // Batch the landmark net across images (all crops of one size share a batch), then the rest per image batch.
        var located = new List<(FaceDetection, CropRect, FaceLandmarks)>();
        var whole = crops.Select(c => new FaceDetection(1, new FaceBox(0, 0, c.Width, c.Height))).ToList();
        using (
            var batch = NetInput.ToBatch(crops, FaceLandmark68Net.InputSize, centered: true, ZooNormalization.FaceMean)
        )
        using (var fc = Landmarks.Forward(batch))
        {
            var raw = fc.data<float>().ToArray();
            for (int i = 0; i < crops.Count; i++)
            {
                var rect = new CropRect(0, 0, crops[i].Width, crops[i].Height);
                located.Add(
                    (whole[i], rect, FaceLandmarks.FromNetOutput(raw.AsSpan(i * 136, 136), rect, whole[i].Box))
                );
            }
        }
        return Finish(crops, located);
    }

    public void Dispose()
    {
        _ssd?.Dispose();
        _tiny?.Dispose();
        _blaze?.Dispose();
        _landmarks?.Dispose();
        _expression?.Dispose();
        _ageGender?.Dispose();
        _recognition?.Dispose();
    }
}
