using FaceDistill.Core;

namespace FaceDistill.Omni;

/// <summary>The resumable snapshot of a learned condensation: the images, their momentum buffer, learned label logits
/// and their momentum where labels are learned, and the loss of every iteration done (its count is the next
/// iteration). One binary file (<c>FDCS</c>, version 2, value count, loss count, label-value count, then float32
/// images, float32 momentum, float64 losses, float32 label logits, float32 label momentum), written atomically;
/// version 1 (no labels) still reads.</summary>
public sealed record CondensationState(
    float[] Pixels,
    float[] Velocity,
    IReadOnlyList<double> Losses,
    float[]? LabelLogits = null,
    float[]? LabelVelocity = null
)
{
    private static readonly byte[] Magic = "FDCS"u8.ToArray();

    public static void Write(string path, SyntheticSet syn, IReadOnlyList<double> losses)
    {
        var px = syn.PixelData();
        var v = syn.VelocityData();
        var ll = syn.LabelLogitData() ?? [];
        var lv = syn.LabelVelocityData() ?? [];
        AtomicFile.Write(
            path,
            tmp =>
            {
                using var w = new BinaryWriter(File.Create(tmp));
                w.Write(Magic);
                w.Write(2);
                w.Write(px.Length);
                w.Write(losses.Count);
                w.Write(ll.Length);
                foreach (var x in px)
                    w.Write(x);
                foreach (var x in v)
                    w.Write(x);
                foreach (var l in losses)
                    w.Write(l);
                foreach (var x in ll)
                    w.Write(x);
                foreach (var x in lv)
                    w.Write(x);
            }
        );
    }

    /// <summary>The snapshot at <paramref name="path"/>, or null when there is none; one of another shape (pixel
    /// count, or label-value count where <paramref name="labelValues"/> is given) is an error naming the
    /// file.</summary>
    public static CondensationState? Read(string path, int values, int labelValues = 0)
    {
        if (!File.Exists(path))
            return null;
        try
        {
            using var r = new BinaryReader(File.OpenRead(path));
            if (!r.ReadBytes(4).SequenceEqual(Magic))
                throw FaceDistillException.ForFile(path, "not a FaceDistill condensation snapshot");
            int version = r.ReadInt32();
            if (version is not (1 or 2))
                throw FaceDistillException.ForFile(path, $"condensation snapshot version {version} is not 1 or 2");
            int n = r.ReadInt32(),
                k = r.ReadInt32(),
                m = version == 2 ? r.ReadInt32() : 0;
            if (m != labelValues)
                throw FaceDistillException.ForFile(
                    path,
                    $"snapshot holds {m} label values, this condensation has {labelValues}: delete it to start again"
                );
            if (n != values || k < 0)
                throw FaceDistillException.ForFile(
                    path,
                    $"snapshot holds {n} values, this condensation has {values}: delete it to start again"
                );
            var px = Floats(r, n);
            var v = Floats(r, n);
            var losses = new double[k];
            for (int i = 0; i < k; i++)
                losses[i] = r.ReadDouble();
            return m == 0
                ? new CondensationState(px, v, losses)
                : new CondensationState(px, v, losses, Floats(r, m), Floats(r, m));
        }
        catch (EndOfStreamException)
        {
            throw FaceDistillException.ForFile(path, "condensation snapshot truncated: delete it to start again");
        }
    }

    private static float[] Floats(BinaryReader r, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
            x[i] = r.ReadSingle();
        return x;
    }
}
