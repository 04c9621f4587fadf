using FaceDistill.Data;
using FaceDistill.Graphs.Tfjs;
using static TorchSharp.torch;

namespace FaceDistill.Faces.Zoo;

/// <summary>What <see cref="FaceRes"/> gives for a batch: the 1024-d identity descriptor, the 100-way age
/// distribution (decades of life in tenths: class k ≈ k years) and the probability of "male".</summary>
public sealed record FaceResOutputs(Tensor Descriptor, Tensor Age, Tensor Male) : IDisposable
{
    public void Dispose()
    {
        Descriptor.Dispose();
        Age.Dispose();
        Male.Dispose();
    }
}

/// <summary><c>faceres</c> of <c>@vladmandic/human</c> (HSE-asavchenko's face model,
/// https://github.com/HSE-asavchenko/HSE_FaceRec_tf): a MobileNet-v1 (3.5 M parameters, float16 weights) on 224×224 RGB
/// face crops with pixels 0–255, imported from its tfjs graph (<see cref="TfjsGraphModule"/>). Outputs
/// <c>global_pooling/Mean</c> (descriptor), <c>age_pred/Softmax</c>, <c>gender_pred/Sigmoid</c>. human feeds it a face
/// crop in [0, 1], resized with <c>tf.image.resizeBilinear(…, alignCorners = false)</c> and multiplied by 255 (<see
/// cref="Input"/>).</summary>
public sealed class FaceRes : IDisposable
{
    public const int InputSize = 224;
    public const int DescriptorSize = 1024;
    public const string DescriptorOutput = "global_pooling/Mean",
        AgeOutput = "age_pred/Softmax",
        MaleOutput = "gender_pred/Sigmoid";

    public TfjsGraphModule Module { get; }

    private FaceRes(TfjsGraphModule module)
    {
        Module = module;
        Module.eval();
    }

    /// <summary>The installed faceres, its files checked against the checksums recorded at installation.</summary>
    public static FaceRes Load(string? home = null)
    {
        if (HumanZoo.VerifyModel("faceres", home) is [var problem, ..])
            throw new Core.FaceDistillException(problem);
        return FromFile(HumanZoo.ModelJson("faceres", home));
    }

    public static FaceRes FromFile(string modelJson) => new(new TfjsGraphModule(TfjsGraph.Load(modelJson), "faceres"));

    /// <summary>The graph on NCHW input with pixels 0–255 at <see cref="InputSize"/>.</summary>
    public FaceResOutputs Forward(Tensor input)
    {
        using var _ = no_grad();
        var o = Module.Run(input, [DescriptorOutput, AgeOutput, MaleOutput]);
        return new FaceResOutputs(o[DescriptorOutput], o[AgeOutput], o[MaleOutput]);
    }

    /// <summary>human's preprocessing of face crops in [0, 1] (NCHW): TF-legacy bilinear resize to 224, ×
    /// 255.</summary>
    public static Tensor Input(Tensor crops01)
    {
        using var resized = TfOps.ResizeBilinearLegacy(crops01, InputSize, InputSize);
        return resized * 255f;
    }

    /// <summary>One crop as human feeds it (<see cref="Input"/>).</summary>
    public static Tensor Input(RgbImage crop)
    {
        var px = new float[3 * crop.Width * crop.Height];
        for (int c = 0; c < 3; c++)
        for (int i = 0; i < crop.Width * crop.Height; i++)
            px[c * crop.Width * crop.Height + i] = crop.Pixels[3 * i + c] / 255f;
        using var t = tensor(px, [1, 3, crop.Height, crop.Width]);
        return Input(t);
    }

    public void Dispose() => Module.Dispose();
}
