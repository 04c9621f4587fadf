using FaceDistill.Core;
using FaceDistill.Faces.Zoo;
using FaceDistill.Training;

namespace FaceDistill.Tests;

/// <summary>Weights that cannot be silently corrupted: checkpoints and zoo weights are checked against the SHA-256
/// recorded when they were written.</summary>
public class IntegrityTests
{
    private static void Flip(string path, int at)
    {
        var bytes = File.ReadAllBytes(path);
        for (int i = at; i < Math.Min(bytes.Length, at + 4096); i++)
            bytes[i] ^= 0x5A;
        File.WriteAllBytes(path, bytes); // same size
    }

    [Fact]
    public void AFlippedCheckpointIsRefusedByEvalAndResume()
    {
        var root = TestUtil.TempDir();
        var cfg = TestUtil.Tiny("flip", epochs: 1);
        TrainingRun.Execute(cfg, root, ExistingRun.Refuse);
        var latest = Checkpoint.Latest(Path.Combine(root, "flip", "checkpoints"))!;
        Assert.True(File.Exists(Path.Combine(latest, Checkpoint.ManifestFile)));
        TrainedRun.Load(Path.Combine(root, "flip")).Dispose(); // intact: loads
        Flip(Path.Combine(latest, "model.bin"), 1000);
        var e = Assert.Throws<FaceDistillException>(() => TrainedRun.Load(Path.Combine(root, "flip")));
        Assert.Contains("model.bin: changed since the checkpoint was written", e.Message);
        Assert.Contains(
            "changed since",
            Assert.Throws<FaceDistillException>(() => TrainingRun.Execute(cfg, root, ExistingRun.Resume)).Message
        );
        var (code, _, err) = CliHarness.Run("eval", "--run", Path.Combine(root, "flip"), "--quiet");
        Assert.Equal(2, code);
        Assert.Contains("model.bin", err);
    }

    [ZooFact]
    public void FlippedZooWeightsAndMissingChecksumsAreErrors()
    {
        // a copy of the installed face-api zoo in a home of its own
        var home = TestUtil.TempDir();
        var dir = ModelZoo.ModelDir(home);
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.GetFiles(ModelZoo.ModelDir()))
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        FaceRecognitionNet.Load(home).Dispose();
        Flip(Path.Combine(dir, "face_recognition_model.bin"), 5000);
        var e = Assert.Throws<FaceDistillException>(() => FaceRecognitionNet.Load(home));
        Assert.Contains("face_recognition_model.bin: changed since installation", e.Message);
        Assert.Contains(ModelZoo.Verify(home), p => p.Contains("face_recognition_model.bin"));
        File.Delete(Path.Combine(dir, "checksums.json"));
        Assert.Contains(ModelZoo.Verify(home), p => p.Contains("no checksums recorded"));
        Assert.Contains(
            "no checksums recorded",
            Assert.Throws<FaceDistillException>(() => AgeGenderNet.Load(home)).Message
        );
    }
}
