using System.Text.Json;
using FaceDistill.Faces.Zoo;

namespace FaceDistill.Faces;

/// <summary>
/// The JSON of <c>facedistill analyze</c>: per image its file and size, per face the detection score and box, the 68
/// landmarks, the expression (and all seven probabilities), age, gender and the 128-d descriptor. Coordinates are
/// rounded to 1e-3 px, probabilities to 1e-6.
/// </summary>
public static class FaceAnalysisJson
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public static object Image(string file, int width, int height, IEnumerable<FaceAnalysis> faces) =>
        new
        {
            file,
            width,
            height,
            faces = faces.Select(Face).ToList(),
        };

    public static object Face(FaceAnalysis f) =>
        new
        {
            score = Math.Round(f.Detection.Score, 6),
            box = new
            {
                x = R(f.Detection.Box.X),
                y = R(f.Detection.Box.Y),
                width = R(f.Detection.Box.Width),
                height = R(f.Detection.Box.Height),
            },
            landmarks = f.Landmarks.Points.Select(pt => new[] { R(pt.X), R(pt.Y) }).ToArray(),
            expression = f.Expression,
            expressions = FaceExpressionNet
                .Labels.Zip(f.Expressions)
                .ToDictionary(t => t.First, t => Math.Round(t.Second, 6)),
            age = Math.Round(f.Age, 2),
            gender = f.Gender,
            genderProbability = Math.Round(f.GenderProbability, 4),
            descriptor = f.Descriptor,
        };

    /// <summary>One image's object alone, several images as a list.</summary>
    public static string Serialize(IReadOnlyList<object> images, bool single) =>
        JsonSerializer.Serialize(single && images.Count == 1 ? images[0] : images, Options);

    private static double R(double v) => Math.Round(v, 3);
}
