using FaceDistill.Faces;

namespace FaceDistill.Serve;

/// <summary>A face box in pixels of the posted image.</summary>
public sealed record Box(double X, double Y, double Width, double Height);

/// <summary>One face of <c>/v1/embed</c>: detection score and box, the five alignment points (eye centres, nose tip,
/// mouth corners) and the L2-normalised embedding.</summary>
public sealed record EmbeddedFace(double Score, Box Box, double[][] Landmarks, float[] Embedding);

public sealed record EmbedResponse(string Model, int Width, int Height, IReadOnlyList<EmbeddedFace> Faces);

/// <summary><c>/v1/verify</c>: the cosine of the two images' most confident faces; <c>Same</c> at the model's
/// calibrated threshold (null when either image has no face, or the model was never calibrated), with the FAR the
/// threshold had on its calibration pairs.</summary>
public sealed record VerifyResponse(
    string Model,
    double? Score,
    bool? Same,
    double? Threshold,
    double? Far,
    string? Calibration,
    int FacesA,
    int FacesB,
    string? Note
);

/// <summary>A one-line error for the client.</summary>
public sealed record ErrorResponse(string Error);

public sealed record HealthResponse(string Status, string Model, int InputSize, int EmbeddingSize, bool Calibrated);

internal static class ServeJson
{
    public static EmbeddedFace Face(FoundFace f, float[] embedding) =>
        new(
            Math.Round(f.Detection.Score, 6),
            new Box(R(f.Detection.Box.X), R(f.Detection.Box.Y), R(f.Detection.Box.Width), R(f.Detection.Box.Height)),
            f.FivePoints.Select(p => new[] { R(p.X), R(p.Y) }).ToArray(),
            embedding
        );

    private static double R(double v) => Math.Round(v, 3);
}
