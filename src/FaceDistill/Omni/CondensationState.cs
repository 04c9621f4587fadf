using FaceDistill.Core;

namespace FaceDistill.Omni;

/// <summary>The resumable snapshot of a learned condensation: the images, their momentum buffer and the loss of every
/// iteration done (its count is the next iteration). One binary file (<c>FDCS</c>, version, value count, loss count,
/// then float32 images, float32 momentum, float64 losses), written atomically.</summary>
public sealed record CondensationState(float[] Pixels, float[] Velocity, IReadOnlyList<double> Losses)
{
    private static readonly byte[] Magic = "FDCS"u8.ToArray();

    public static void Write(string path, SyntheticSet syn, IReadOnlyList<double> losses)
    {
        var px = syn.PixelData();
        var v = syn.VelocityData();
        AtomicFile.Write(
            path,
            tmp =>
            {
                using var w = new BinaryWriter(File.Create(tmp));
                w.Write(Magic);
                w.Write(1);
                w.Write(px.Length);
                w.Write(losses.Count);
                foreach (var x in px)
                    w.Write(x);
                foreach (var x in v)
                    w.Write(x);
                foreach (var l in losses)
                    w.Write(l);
            }
        );
    }

    /// <summary>The snapshot at <paramref name="path"/>, or null when there is none; one of another shape is an
    /// error naming the file.</summary>
    public static CondensationState? Read(string path, int values)
    {
        if (!File.Exists(path))
            return null;
        try
        {
            using var r = new BinaryReader(File.OpenRead(path));
            if (!r.ReadBytes(4).SequenceEqual(Magic) || r.ReadInt32() != 1)
                throw FaceDistillException.ForFile(path, "not a FaceDistill condensation snapshot");
            int n = r.ReadInt32(),
                k = r.ReadInt32();
            if (n != values || k < 0)
                throw FaceDistillException.ForFile(
                    path,
                    $"snapshot holds {n} values, this condensation has {values}: delete it to start again"
                );
            var px = new float[n];
            var v = new float[n];
            for (int i = 0; i < n; i++)
                px[i] = r.ReadSingle();
            for (int i = 0; i < n; i++)
                v[i] = r.ReadSingle();
            var losses = new double[k];
            for (int i = 0; i < k; i++)
                losses[i] = r.ReadDouble();
            return new CondensationState(px, v, losses);
        }
        catch (EndOfStreamException)
        {
            throw FaceDistillException.ForFile(path, "condensation snapshot truncated: delete it to start again");
        }
    }
}
