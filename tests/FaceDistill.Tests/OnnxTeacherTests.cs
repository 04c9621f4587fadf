using FaceDistill.Core;
using FaceDistill.Distillation.Teachers;
using Google.Protobuf;
using static TorchSharp.torch;

namespace FaceDistill.Tests;

public class OnnxTeacherTests
{
    // A hand-encoded ONNX model (protobuf field numbers from onnx.proto):
    //   x [N,3,8,8] → GlobalAveragePool → Flatten → "pooled" [N,3] → MatMul W [3,4] → "emb" [N,4]
    private static readonly float[] W = [1, 0, 2, -1, 0, 1, 0, 3, 0, 0, 1, 0.5f];

    private static byte[] Msg(Action<CodedOutputStream> write)
    {
        using var ms = new MemoryStream();
        var s = new CodedOutputStream(ms);
        write(s);
        s.Flush();
        return ms.ToArray();
    }

    private static void Bytes(CodedOutputStream s, int field, byte[] b)
    {
        s.WriteTag(field, WireFormat.WireType.LengthDelimited);
        s.WriteBytes(ByteString.CopyFrom(b));
    }

    private static void Str(CodedOutputStream s, int field, string v)
    {
        s.WriteTag(field, WireFormat.WireType.LengthDelimited);
        s.WriteString(v);
    }

    private static void Int(CodedOutputStream s, int field, long v)
    {
        s.WriteTag(field, WireFormat.WireType.Varint);
        s.WriteInt64(v);
    }

    private static byte[] Node(string op, string[] inputs, string output) =>
        Msg(s =>
        {
            foreach (var i in inputs)
                Str(s, 1, i);
            Str(s, 2, output);
            Str(s, 3, op + "_" + output);
            Str(s, 4, op);
        });

    private static byte[] ValueInfo(string name, params object[] dims) =>
        Msg(s =>
        {
            Str(s, 1, name);
            Bytes(
                s,
                2,
                Msg(t =>
                    Bytes(
                        t,
                        1,
                        Msg(tt =>
                        {
                            Int(tt, 1, 1); // FLOAT
                            Bytes(
                                tt,
                                2,
                                Msg(sh =>
                                {
                                    foreach (var d in dims)
                                        Bytes(
                                            sh,
                                            1,
                                            Msg(dd =>
                                            {
                                                if (d is string p)
                                                    Str(dd, 2, p);
                                                else
                                                    Int(dd, 1, Convert.ToInt64(d));
                                            })
                                        );
                                })
                            );
                        })
                    )
                )
            );
        });

    public static string WriteModel(string dir)
    {
        var graph = Msg(g =>
        {
            Bytes(g, 1, Node("GlobalAveragePool", ["x"], "gap"));
            Bytes(g, 1, Node("Flatten", ["gap"], "pooled"));
            Bytes(g, 1, Node("MatMul", ["pooled", "W"], "emb"));
            Str(g, 2, "tiny");
            Bytes(
                g,
                5,
                Msg(t =>
                {
                    Int(t, 1, 3);
                    Int(t, 1, 4);
                    Int(t, 2, 1);
                    Str(t, 8, "W");
                    t.WriteTag(9, WireFormat.WireType.LengthDelimited);
                    t.WriteBytes(ByteString.CopyFrom(W.SelectMany(BitConverter.GetBytes).ToArray()));
                })
            );
            Bytes(g, 11, ValueInfo("x", "N", 3, 8, 8));
            Bytes(g, 12, ValueInfo("emb", "N", 4));
            Bytes(g, 12, ValueInfo("pooled", "N", 3));
        });
        var model = Msg(m =>
        {
            Int(m, 1, 8);
            Str(m, 2, "facedistill-test");
            Bytes(m, 7, graph);
            Bytes(
                m,
                8,
                Msg(o =>
                {
                    Str(o, 1, "");
                    Int(o, 2, 13);
                })
            );
        });
        var path = Path.Combine(dir, "tiny.onnx");
        File.WriteAllBytes(path, model);
        return path;
    }

    [Fact]
    public void RunsAnOnnxModelWithTheConfiguredPreprocessing()
    {
        var path = WriteModel(TestUtil.TempDir());
        manual_seed(3);
        using var x = rand(2, 3, 8, 8) * 2 - 1;
        var means = x.mean([2, 3]).data<float>().ToArray(); // (x+1)·127.5 normalised by 127.5/127.5 gives x back
        using (var t = (ITeacher)TeacherFactory.Create($"onnx:{path}?size=8&logits=pooled"))
        {
            Assert.Equal((4, 3, 8), (t.EmbeddingSize, t.Classes, t.InputSize));
            var o = t.Run(x);
            var pooled = o.Logits!.data<float>().ToArray();
            for (int i = 0; i < 6; i++)
                Assert.Equal(means[i], pooled[i], 5);
            var emb = o.Embedding!.data<float>().ToArray();
            for (int n = 0; n < 2; n++)
            for (int j = 0; j < 4; j++)
                Assert.Equal(Enumerable.Range(0, 3).Sum(c => means[n * 3 + c] * W[c * 4 + j]), emb[n * 4 + j], 4);
        }
        // BGR order flips the channels; mean/std per channel apply after
        using (
            var t = new OnnxTeacher(
                OnnxTeacherOptions.Parse($"{path}?size=8&order=bgr&logits=pooled&mean=127.5&std=255")
            )
        )
        {
            var pooled = t.Run(x).Logits!.data<float>().ToArray();
            Assert.Equal(means[2] / 2, pooled[0], 5);
            Assert.Equal(means[0] / 2, pooled[2], 5);
        }
        // a larger student view is resized to the teacher's input
        using (var t = new OnnxTeacher(OnnxTeacherOptions.Parse($"{path}?size=8")))
        using (var big = zeros(1, 3, 16, 16))
            Assert.Equal([1L, 4], t.Run(big).Embedding!.shape);
    }

    [Fact]
    public void BadOnnxSpecsAndFilesAreOneLineErrors()
    {
        var dir = TestUtil.TempDir();
        var path = WriteModel(dir);
        Assert.Contains(
            "unknown option 'colour'",
            Assert.Throws<FaceDistillException>(() => OnnxTeacherOptions.Parse($"{path}?colour=rgb")).Message
        );
        Assert.Contains(
            "has no output 'cls'",
            Assert
                .Throws<FaceDistillException>(() => new OnnxTeacher(OnnxTeacherOptions.Parse($"{path}?logits=cls")))
                .Message
        );
        var broken = Path.Combine(dir, "broken.onnx");
        File.WriteAllBytes(broken, File.ReadAllBytes(path)[..40]);
        var e = Assert.Throws<FaceDistillException>(() => new OnnxTeacher(new OnnxTeacherOptions(broken)));
        Assert.StartsWith(broken, e.Message);
        Assert.Contains(
            "not found",
            Assert
                .Throws<FaceDistillException>(() =>
                    new OnnxTeacher(new OnnxTeacherOptions(Path.Combine(dir, "none.onnx")))
                )
                .Message
        );
    }
}
