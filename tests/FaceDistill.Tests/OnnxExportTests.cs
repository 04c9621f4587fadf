using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Distillation.Teachers;
using FaceDistill.Export;
using FaceDistill.Graphs.Onnx;
using FaceDistill.Models;
using FaceDistill.Models.Heads;
using Google.Protobuf;
using static TorchSharp.torch;

namespace FaceDistill.Tests;

public class OnnxExportTests
{
    /// <summary>Batch-norm statistics away from their (0, 1) initial values, so the export of running mean and variance
    /// is tested too: a few training-mode passes with momentum 1 on shifted inputs.</summary>
    internal static void Settle(FaceModel m, int size)
    {
        m.train();
        foreach (var bn in m.modules().OfType<TorchSharp.Modules.BatchNorm>())
            bn.momentum = 1.0;
        using (no_grad())
        {
            manual_seed(5);
            using var x = rand(4, 3, size, size) * 1.5 - 0.5;
            using var _ = m.Backbone.call(x);
        }
        m.eval();
    }

    public static TheoryData<string, int, string> Models =>
        new()
        {
            { "mobilefacenet", 32, "expression" },
            { "iresnet18", 32, "age" },
            { "iresnet18:gdc", 32, "recognition" },
            { "resnet50", 32, "gender" },
            { "vggf", 64, "expression" },
            { "vgg16", 32, "recognition" },
        };

    [Theory]
    [MemberData(nameof(Models))]
    public void EveryBackboneExportsAndOnnxRuntimeAgreesWithTorchSharp(string backbone, int size, string taskName)
    {
        var task = FaceTaskExtensions.Parse(taskName);
        manual_seed(1);
        Backbone b = backbone.EndsWith(":gdc", StringComparison.Ordinal)
            ? new IResNet(18, size, 32, widthMultiplier: 0.25, output: "gdc")
            : Backbones.Create(backbone, size, 32, width: 0.25);
        Head head = task switch
        {
            FaceTask.Age => new RegressionHead(32, 30),
            FaceTask.Gender => new CombinedMarginHead(32, 2, s: 16, m2: 0.3),
            _ => new SoftmaxHead(32, 7),
        };
        using var model = new FaceModel(b, head);
        Settle(model, size);
        var path = Path.Combine(TestUtil.TempDir(), "m.onnx");
        var r = OnnxExport.Export(model, task, path);
        Assert.True(r.MaxDifference < 1e-4, $"{backbone}: {r.MaxDifference}");
        Assert.True(File.Exists(path));
        var expected = task switch
        {
            FaceTask.Recognition => new[] { "embedding" },
            FaceTask.Age => ["embedding", "age"],
            _ => ["embedding", "logits"],
        };
        Assert.Equal(expected, r.Outputs.Select(o => o.Name));

        // the file as a teacher: same embeddings (and logits) as the model on a new batch, at another batch size
        manual_seed(9);
        using var x = rand(5, 3, size, size) * 2 - 1;
        using var e = model.Embed(x);
        var spec = $"onnx:{path}" + (task is FaceTask.Expression or FaceTask.Gender ? "?logits=logits" : "");
        using var teacher = (ITeacher)TeacherFactory.Create(spec);
        Assert.Equal(size, teacher.InputSize); // read from the model's fixed input shape
        var outs = teacher.Run(x);
        Assert.Equal(32, teacher.EmbeddingSize);
        // relative to the largest magnitude, as in the export check (the teacher's 0..255 round trip adds rounding)
        double Rel(Tensor a, Tensor b) => (a - b).abs().max().item<float>() / Math.Max(1, b.abs().max().item<float>());
        Assert.True(Rel(outs.Embedding!, e) < 1e-4, $"{backbone}: embeddings differ by {Rel(outs.Embedding!, e):G3}");
        if (outs.Logits is not null)
        {
            using var logits = model.Predict(x);
            Assert.True(Rel(outs.Logits, logits) < 1e-4, $"{backbone}: logits differ by {Rel(outs.Logits, logits):G3}");
        }
    }

    [Fact]
    public void TheFileIsAValidModelProtoWithOpsetAndMetadata()
    {
        manual_seed(2);
        using var model = new FaceModel(Backbones.Create("mobilefacenet", 32, 16), new SoftmaxHead(16, 3));
        model.eval();
        var path = Path.Combine(TestUtil.TempDir(), "m.onnx");
        OnnxExport.Export(
            model,
            FaceTask.Expression,
            path,
            new Dictionary<string, string> { ["facedistill.run"] = "r1" }
        );
        // decoded by Google.Protobuf, an implementation independent of the writer
        var input = new CodedInputStream(File.ReadAllBytes(path));
        long ir = 0,
            opset = 0;
        var meta = new Dictionary<string, string>();
        string producer = "";
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1:
                    ir = input.ReadInt64();
                    break;
                case 2:
                    producer = input.ReadString();
                    break;
                case 8:
                {
                    var o = new CodedInputStream(input.ReadBytes().ToByteArray());
                    uint t;
                    while ((t = o.ReadTag()) != 0)
                        if (WireFormat.GetTagFieldNumber(t) == 2)
                            opset = o.ReadInt64();
                        else
                            o.SkipLastField();
                    break;
                }
                case 14:
                {
                    var o = new CodedInputStream(input.ReadBytes().ToByteArray());
                    string k = "",
                        v = "";
                    uint t;
                    while ((t = o.ReadTag()) != 0)
                        if (WireFormat.GetTagFieldNumber(t) == 1)
                            k = o.ReadString();
                        else
                            v = o.ReadString();
                    meta[k] = v;
                    break;
                }
                default:
                    input.SkipLastField();
                    break;
            }
        }
        Assert.Equal(OnnxGraph.IrVersion, ir);
        Assert.Equal(OnnxGraph.Opset, opset);
        Assert.Equal("FaceDistill", producer);
        Assert.Equal("32", meta["facedistill.input_size"]);
        Assert.Equal("expression", meta["facedistill.task"]);
        Assert.Equal("r1", meta["facedistill.run"]);
        Assert.Contains("127.5", meta["facedistill.preprocessing"]);
    }

    [Fact]
    public void ProtoWriterEncodesVarintsFloatsAndNestedMessages()
    {
        var bytes = new ProtoWriter()
            .Varint(1, 300)
            .Varint(2, -1)
            .Float(3, 1.5f)
            .Message(4, new ProtoWriter().String(1, "ab"))
            .ToArray();
        var input = new CodedInputStream(bytes);
        Assert.Equal(1, WireFormat.GetTagFieldNumber(input.ReadTag()));
        Assert.Equal(300, input.ReadInt64());
        input.ReadTag();
        Assert.Equal(-1, input.ReadInt64());
        input.ReadTag();
        Assert.Equal(1.5f, input.ReadFloat());
        Assert.Equal(4, WireFormat.GetTagFieldNumber(input.ReadTag()));
        var inner = new CodedInputStream(input.ReadBytes().ToByteArray());
        inner.ReadTag();
        Assert.Equal("ab", inner.ReadString());
        Assert.Equal([0x08, 0xAC, 0x02], bytes[..3]); // 300 = 0b10_0101100 → AC 02
    }

    [Fact]
    public void TheCliExportsARunAndRefusesToOverwrite()
    {
        var runs = TestUtil.TempDir();
        var run = TestUtil.TrainTiny(runs, "tiny");
        var onnx = Path.Combine(runs, "tiny.onnx");
        var (code, output, err) = CliHarness.Run("export", "--run", run, "--out", onnx);
        Assert.True(code == 0, err);
        Assert.Contains("embedding [N, ", output);
        Assert.Contains($"onnx:{onnx}", output);
        (code, _, err) = CliHarness.Run("export", "--run", run, "--out", onnx);
        Assert.Equal(2, code);
        Assert.Contains("exists; give --force", err);
        Assert.Equal(0, CliHarness.Run("export", "--run", run, "--out", onnx, "--force").Code);
        // a missing output folder is made, as `mkdir -p` would
        var nested = Path.Combine(runs, "export", "deep", "tiny.onnx");
        Assert.Equal(0, CliHarness.Run("export", "--run", run, "--out", nested).Code);
        Assert.True(File.Exists(nested));
        // ... but not for a run that does not load
        (code, _, err) = CliHarness.Run(
            "export",
            "--run",
            Path.Combine(runs, "nope"),
            "--out",
            Path.Combine(runs, "none", "n.onnx")
        );
        Assert.Equal(2, code);
        Assert.Contains("not a FaceDistill run directory", err);
        Assert.DoesNotContain("\n   at ", err);
        Assert.False(Directory.Exists(Path.Combine(runs, "none")));
    }

    private sealed class GeluBackbone : Backbone, IOnnxExportable
    {
        private readonly TorchSharp.torch.nn.Module<Tensor, Tensor> act = TorchSharp.torch.nn.GELU();

        public GeluBackbone()
            : base("GeluBackbone", 8, 3 * 8 * 8) => RegisterComponents();

        public override Tensor forward(Tensor x) => act.call(x).flatten(1);

        public string ExportOnnx(OnnxGraph g, string x) => g.Module(act, x);
    }

    [Fact]
    public void AnUnexportableModelIsAOneLineErrorNamingTheFileAndNothingIsWritten()
    {
        var path = Path.Combine(TestUtil.TempDir(), "m.onnx");
        using var model = new FaceModel(new GeluBackbone(), new SoftmaxHead(3 * 8 * 8, 2));
        var e = Assert.Throws<FaceDistillException>(() => OnnxExport.Export(model, FaceTask.Recognition, path));
        Assert.StartsWith(path + ": not written", e.Message);
        Assert.Contains("GELU", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void AModuleWithoutAMappingIsRefusedByName()
    {
        var g = new OnnxGraph();
        g.Input("input", -1, 4);
        using var m = TorchSharp.torch.nn.GELU();
        Assert.Contains("GELU", Assert.Throws<NotSupportedException>(() => g.Module(m, "input")).Message);
    }
}
