using System.Text.Json;
using FaceDistill.Core;
using FaceDistill.Distillation.Teachers;
using static TorchSharp.torch;

namespace FaceDistill.Tests;

[Collection("gc")] // it switches FACEDISTILL_TEACHER_ORT for the process
public class GraphTeacherOrtTests
{
    /// <summary>The imported teachers run through ONNX Runtime (their export, cached per input side): the same
    /// embeddings as TorchSharp's path within 1e-4 relative, the export made once and read back after.</summary>
    [HumanFact]
    public void GraphTeachersThroughOnnxRuntimeMatchTorchSharp()
    {
        var home = TestUtil.TempDir();
        foreach (var sub in new[] { "human-3.3.6", "human-models-3.0.4" })
            if (Directory.Exists(Path.Combine(FaceDistill.Faces.Zoo.ModelZoo.Home, sub)))
                Directory.CreateSymbolicLink(
                    Path.Combine(home, sub),
                    Path.Combine(FaceDistill.Faces.Zoo.ModelZoo.Home, sub)
                );
        using var x = rand(3, 3, 64, 64) * 2 - 1;
        using var ort = FaceDistill.Distillation.Teachers.GraphFaceNetTeacher.Load("faceres", home);
        var viaOrt = ort.Run(x).Embedding!;
        var exported = Directory.GetFiles(Path.Combine(home, "onnx"), "faceres-64-*.onnx");
        Assert.Single(exported);
        var env = Environment.GetEnvironmentVariable("FACEDISTILL_TEACHER_ORT");
        Environment.SetEnvironmentVariable("FACEDISTILL_TEACHER_ORT", "0");
        Tensor viaTorch;
        try
        {
            using var torchTeacher = FaceDistill.Distillation.Teachers.GraphFaceNetTeacher.Load("faceres", home);
            viaTorch = torchTeacher.Run(x).Embedding!;
        }
        finally
        {
            Environment.SetEnvironmentVariable("FACEDISTILL_TEACHER_ORT", env);
        }
        double rel = (viaOrt - viaTorch).abs().max().item<float>() / viaTorch.abs().max().item<float>();
        Assert.True(rel < 1e-4, $"ONNX Runtime vs TorchSharp: {rel:G3}");
        using var again = FaceDistill.Distillation.Teachers.GraphFaceNetTeacher.Load("faceres", home);
        again.Run(x);
        Assert.Equal(exported, Directory.GetFiles(Path.Combine(home, "onnx"), "faceres-64-*.onnx"));
    }
}
