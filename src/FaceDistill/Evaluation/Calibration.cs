using System.Globalization;
using System.Text.Json;
using FaceDistill.Core;

namespace FaceDistill.Evaluation;

/// <summary>
/// The verification threshold of a model, calibrated on a pair list: t* = argmax_t accuracy of "same ⇔ cos &gt; t"
/// over all pairs (the 10-fold protocol's rule, fitted on every pair at once), with the false-accept rate
/// FAR(t*) = |{different pairs with cos &gt; t*}| / |different pairs| and the true-accept rate it had on those pairs.
/// Written as <c>calibration.json</c> beside a run when it is evaluated on pairs, copied into an exported ONNX file's
/// metadata, and read by <c>serve</c> for <c>/v1/verify</c>.
/// </summary>
public sealed record Calibration(double Threshold, double Far, double Tar, int Pairs, string Source)
{
    public const string FileName = "calibration.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    /// <summary>Calibrates on the scores of a verification evaluation (<paramref name="source"/> names the pairs and
    /// the view, for the record).</summary>
    public static Calibration From(VerificationResult result, string source)
    {
        if (result.Scores.Length == 0 || result.Scores.Length != result.Same.Length)
            throw new FaceDistillException($"{source}: no pair scores to calibrate a threshold on");
        double t = Verification.BestThreshold(result.Scores, result.Same);
        int different = 0,
            falseAccepts = 0,
            same = 0,
            trueAccepts = 0;
        for (int i = 0; i < result.Scores.Length; i++)
        {
            bool accepted = result.Scores[i] > t;
            if (result.Same[i])
            {
                same++;
                trueAccepts += accepted ? 1 : 0;
            }
            else
            {
                different++;
                falseAccepts += accepted ? 1 : 0;
            }
        }
        return new Calibration(
            t,
            different == 0 ? 0 : (double)falseAccepts / different,
            same == 0 ? 0 : (double)trueAccepts / same,
            result.Scores.Length,
            source
        );
    }

    /// <summary>The calibration as ONNX metadata entries (<c>facedistill.threshold</c>, …).</summary>
    public IReadOnlyDictionary<string, string> ToMetadata() =>
        new Dictionary<string, string>
        {
            ["facedistill.threshold"] = Threshold.ToString("R", CultureInfo.InvariantCulture),
            ["facedistill.far"] = Far.ToString("R", CultureInfo.InvariantCulture),
            ["facedistill.tar"] = Tar.ToString("R", CultureInfo.InvariantCulture),
            ["facedistill.calibration_pairs"] = Pairs.ToString(CultureInfo.InvariantCulture),
            ["facedistill.calibration_source"] = Source,
        };

    /// <summary>The calibration stored in an ONNX file's metadata, or null when the file has none.</summary>
    public static Calibration? FromMetadata(IReadOnlyDictionary<string, string> m, string nameForErrors)
    {
        if (!m.TryGetValue("facedistill.threshold", out var t))
            return null;
        double Number(string key) =>
            m.TryGetValue(key, out var v)
            && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x)
            && double.IsFinite(x)
                ? x
                : throw FaceDistillException.ForFile(nameForErrors, $"metadata {key} is missing or not a number");
        return new Calibration(
            Number("facedistill.threshold"),
            Number("facedistill.far"),
            Number("facedistill.tar"),
            (int)Number("facedistill.calibration_pairs"),
            m.GetValueOrDefault("facedistill.calibration_source", "")
        );
    }

    public void Save(string runDir) =>
        AtomicFile.WriteAllText(Path.Combine(runDir, FileName), JsonSerializer.Serialize(this, Json));

    /// <summary>The run's calibration, or null when it was never evaluated on pairs.</summary>
    public static Calibration? Load(string runDir)
    {
        var path = Path.Combine(runDir, FileName);
        if (!File.Exists(path))
            return null;
        try
        {
            var c = JsonSerializer.Deserialize<Calibration>(File.ReadAllText(path), Json);
            if (c is null || !double.IsFinite(c.Threshold) || c.Far is < 0 or > 1)
                throw new FaceDistillException("not a calibration");
            return c;
        }
        catch (Exception e) when (e is JsonException or FaceDistillException or NotSupportedException)
        {
            throw FaceDistillException.ForFile(path, $"unreadable calibration ({e.Message.Split('\n')[0]})");
        }
    }
}
