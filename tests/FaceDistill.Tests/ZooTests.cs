using System.Buffers.Binary;
using FaceDistill.Core;
using FaceDistill.Faces.Zoo;
using FaceDistill.Graphs.Tfjs;

namespace FaceDistill.Tests;

/// <summary>Needs the face-api weights installed (`facedistill models install`, done by set-up).</summary>
public sealed class ZooFactAttribute : FactAttribute
{
    public ZooFactAttribute()
    {
        if (ModelZoo.Verify().Count > 0)
            Skip = $"teacher weights not installed in {ModelZoo.ModelDir()} (run `facedistill models install`)";
    }
}

public class ZooTests
{
    private static string WriteManifest(string dir, string json, byte[] bin)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "m.bin"), bin);
        var p = Path.Combine(dir, "m-weights_manifest.json");
        File.WriteAllText(p, json);
        return p;
    }

    private const string Json = """
        [{"paths": ["m.bin"], "weights": [
          {"name": "q", "shape": [1, 3], "dtype": "float32",
               "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1}},
          {"name": "f", "shape": [2], "dtype": "float32"}]}]
        """;

    private static byte[] Bin()
    {
        var bin = new byte[3 + 8];
        bin[0] = 0;
        bin[1] = 3;
        bin[2] = 255;
        BinaryPrimitives.WriteSingleLittleEndian(bin.AsSpan(3), 1.25f); // float32 at an odd offset
        BinaryPrimitives.WriteSingleLittleEndian(bin.AsSpan(7), -7.5f);
        return bin;
    }

    [Fact]
    public void DequantizesUint8AndReadsFloat32AtOddOffsets()
    {
        var w = TfjsWeights.Load(WriteManifest(TestUtil.TempDir(), Json, Bin()));
        Assert.Equal([-1f, 0.5f, 126.5f], w.Get("q", 1, 3));
        Assert.Equal([1.25f, -7.5f], w.Get("f", 2));
        // tfjs rounds the double result to float32
        var e = new TfjsEntry("x", [1], "float32", "uint8", 0.1, 0.2);
        Assert.Equal((float)(7 * 0.1 + 0.2), TfjsWeights.Decode(e, new byte[] { 7 })[0]);
    }

    [Fact]
    public void BadWeightFilesAreNamed()
    {
        var dir = TestUtil.TempDir();
        var m = WriteManifest(dir, Json, Bin()[..^2]);
        var ex = Assert.Throws<FaceDistillException>(() => TfjsWeights.Load(m));
        Assert.StartsWith(Path.Combine(dir, "m.bin"), ex.Message);
        Assert.Contains("truncated", ex.Message);
        m = WriteManifest(dir, Json, [.. Bin(), 0]);
        Assert.Contains("extra data", Assert.Throws<FaceDistillException>(() => TfjsWeights.Load(m)).Message);
        m = WriteManifest(dir, "{not json", Bin());
        Assert.Contains(
            "malformed weights manifest",
            Assert.Throws<FaceDistillException>(() => TfjsWeights.Load(m)).Message
        );
        m = WriteManifest(dir, Json.Replace("\"m.bin\"", "\"gone.bin\""), Bin());
        Assert.Contains(
            "gone.bin: weights file named by",
            Assert.Throws<FaceDistillException>(() => TfjsWeights.Load(m)).Message
        );
        var w = TfjsWeights.Load(WriteManifest(dir, Json, Bin()));
        Assert.Contains(
            "has shape [2], the network expects [3]",
            Assert.Throws<FaceDistillException>(() => w.Get("f", 3)).Message
        );
        Assert.Contains("has no weight 'nope'", Assert.Throws<FaceDistillException>(() => w.Get("nope")).Message);
        Assert.Contains(
            "not found",
            Assert.Throws<FaceDistillException>(() => TfjsWeights.Load(Path.Combine(dir, "none.json"))).Message
        );
    }

    [ZooFact]
    public void InstalledManifestsMatchTheSpecByteCounts()
    {
        Assert.Empty(ModelZoo.Verify());
        var rec = TfjsWeights.Load(ModelZoo.Manifest("face_recognition_model"));
        Assert.Equal(117, rec.Entries.Count);
        Assert.Equal(5_614_592, rec.Entries.Sum(e => e.Count));
        var ssd = TfjsWeights.Load(ModelZoo.Manifest("ssd_mobilenetv1_model"));
        Assert.Equal(151, ssd.Entries.Count);
    }

    [ZooFact]
    public void AlteredOrTruncatedInstallIsDetected()
    {
        var home = TestUtil.TempDir();
        var dst = ModelZoo.ModelDir(home);
        Directory.CreateDirectory(dst);
        foreach (var f in Directory.GetFiles(ModelZoo.ModelDir()))
            File.Copy(f, Path.Combine(dst, Path.GetFileName(f)));
        Assert.Empty(ModelZoo.Verify(home));
        var bin = Path.Combine(dst, "age_gender_model.bin");
        var bytes = File.ReadAllBytes(bin);
        bytes[1000] ^= 0xFF;
        File.WriteAllBytes(bin, bytes);
        Assert.Contains(ModelZoo.Verify(home), p => p.Contains("age_gender_model.bin: altered since installation"));
        File.WriteAllBytes(bin, bytes[..^10]);
        Assert.Contains(ModelZoo.Verify(home), p => p.Contains("age_gender_model.bin") && p.Contains("truncated"));
    }
}
