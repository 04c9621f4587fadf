namespace FaceDistill.Data;

/// <summary>A dataset whose images are turned grey (ITU-R BT.601 luma in all three channels), e.g. colour pool faces
/// mined for a model trained on FER2013's grey faces.</summary>
public sealed class GrayscaleDataset(IFaceDataset inner) : IFaceDataset
{
    public int Count => inner.Count;

    public int ClassCount(FaceTask task) => inner.ClassCount(task);

    public FaceLabels Labels(int index) => inner.Labels(index);

    public RgbImage Image(int index) => Gray(inner.Image(index));

    public string Describe(int index) => inner.Describe(index);

    public (RgbImage Image, float[]? Landmarks) Load(int index)
    {
        var (img, lm) = inner.Load(index);
        return (Gray(img), lm);
    }

    public static RgbImage Gray(RgbImage img)
    {
        var px = new byte[img.Pixels.Length];
        var src = img.Pixels;
        for (int i = 0; i < px.Length; i += 3)
        {
            var y = (byte)Math.Clamp(Math.Round(0.299 * src[i] + 0.587 * src[i + 1] + 0.114 * src[i + 2]), 0, 255);
            px[i] = px[i + 1] = px[i + 2] = y;
        }
        return new RgbImage(img.Width, img.Height, px);
    }
}
