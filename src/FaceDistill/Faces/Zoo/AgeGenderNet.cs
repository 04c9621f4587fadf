using FaceDistill.Graphs.Tfjs;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FaceDistill.Faces.Zoo;

/// <summary>
/// face-api's AgeGenderNet (<c>age_gender_model</c>), a TinyXception with two middle blocks on a 112×112 input
/// (faceapi/SPEC.md §3). <c>sep</c> = depthwise 3×3 SAME → pointwise → bias; <c>conv</c> = SAME conv + bias.
/// <code>
/// reduction(x) = maxpool₃ₓ₃ˢ²ˢᵃᵐᵉ(sep₁(relu(sep₀(act(x))))) + conv₁ₓ₁ˢ²(x)      act = id for block 0, relu after
/// main(x)      = sep₂(relu(sep₁(relu(sep₀(relu(x)))))) + x
/// x → relu(conv_in³ˣ³ˢ²) → reduction₀ → reduction₁ → main₀ → main₁ → reduction_exit → relu(sep) → avgpool₇ₓ₇ → 512
/// age = fc_age(·) (years, no activation);   p(gender) = softmax(fc_gender(·)), index 0 = male, 1 = female
/// </code>
/// The expansion conv of each reduction block takes the raw input, not <c>relu(x)</c>.
/// </summary>
public sealed class AgeGenderNet : ZooNet
{
    public const int InputSize = 112;
    public const string ModelName = "age_gender_model";
    public static readonly string[] GenderLabels = ["male", "female"];

    private sealed record Sep(Tensor Depthwise, Tensor Pointwise, Tensor Bias);

    private readonly Dictionary<string, Sep> _seps = new();
    private readonly Dictionary<string, (Tensor W, Tensor B)> _convs = new();
    private readonly Tensor _ageW,
        _ageB,
        _genderW,
        _genderB;

    public AgeGenderNet(TfjsWeights weights)
        : base(nameof(AgeGenderNet), weights)
    {
        ConvW("entry_flow/conv_in", 3, 3, 32);
        Reduction("entry_flow/reduction_block_0", 32, 64);
        Reduction("entry_flow/reduction_block_1", 64, 128);
        foreach (var b in new[] { "middle_flow/main_block_0", "middle_flow/main_block_1" })
            for (int i = 0; i < 3; i++)
                SepW($"{b}/separable_conv{i}", 128, 128);
        Reduction("exit_flow/reduction_block", 128, 256);
        SepW("exit_flow/separable_conv", 256, 512);
        _ageW = Dense("fc/age/weights", 512, 1);
        _ageB = Vector("fc/age/bias", 1);
        _genderW = Dense("fc/gender/weights", 512, 2);
        _genderB = Vector("fc/gender/bias", 2);
        CheckAllUsed();
    }

    public static AgeGenderNet Load(string? home = null) =>
        new(TfjsWeights.Load(ModelZoo.CheckedManifest(ModelName, home)));

    private void ConvW(string p, int k, int cin, int cout) =>
        _convs[p] = (Conv($"{p}/filters", k, k, cin, cout), Vector($"{p}/bias", cout));

    private void SepW(string p, int cin, int cout) =>
        _seps[p] = new Sep(
            Depthwise($"{p}/depthwise_filter", 3, cin),
            Conv($"{p}/pointwise_filter", 1, 1, cin, cout),
            Vector($"{p}/bias", cout)
        );

    private void Reduction(string p, int cin, int cout)
    {
        SepW($"{p}/separable_conv0", cin, cout);
        SepW($"{p}/separable_conv1", cout, cout);
        ConvW($"{p}/expansion_conv", 1, cin, cout);
    }

    private Tensor SepF(string p, Tensor x)
    {
        var s = _seps[p];
        return TfOps.SeparableSame(x, s.Depthwise, s.Pointwise, s.Bias, 1);
    }

    private Tensor ConvF(string p, Tensor x, long stride)
    {
        var (w, b) = _convs[p];
        return TfOps.Conv2dSame(x, w, b, stride);
    }

    private Tensor ReductionF(string p, Tensor x, bool activateInput)
    {
        var a = SepF($"{p}/separable_conv0", activateInput ? x.relu() : x);
        a = SepF($"{p}/separable_conv1", a.relu());
        a = TfOps.MaxPoolSame(a, 3, 2);
        return a + ConvF($"{p}/expansion_conv", x, 2);
    }

    private Tensor MainF(string p, Tensor x)
    {
        var a = SepF($"{p}/separable_conv0", x.relu());
        a = SepF($"{p}/separable_conv1", a.relu());
        a = SepF($"{p}/separable_conv2", a.relu());
        return a + x;
    }

    /// <summary>The 512-d pooled features (call inside a dispose scope).</summary>
    private Tensor Trunk(Tensor input)
    {
        var x = ConvF("entry_flow/conv_in", input, 2).relu();
        x = ReductionF("entry_flow/reduction_block_0", x, false);
        x = ReductionF("entry_flow/reduction_block_1", x, true);
        x = MainF("middle_flow/main_block_0", x);
        x = MainF("middle_flow/main_block_1", x);
        x = ReductionF("exit_flow/reduction_block", x, true);
        x = SepF("exit_flow/separable_conv", x).relu();
        return TfOps.AvgPoolValid(x, 7, 2).flatten(1);
    }

    /// <summary>Age in years <c>[N]</c> and gender logits <c>[N, 2]</c> for normalised inputs <c>[N, 3, 112,
    /// 112]</c>.</summary>
    public (Tensor Age, Tensor GenderLogits) Forward(Tensor input)
    {
        CheckInput(input, InputSize);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var f = Trunk(input);
        var age = F.linear(f, _ageW, _ageB).squeeze(1);
        var gender = F.linear(f, _genderW, _genderB);
        return (age.MoveToOuterDisposeScope(), gender.MoveToOuterDisposeScope());
    }

    public Tensor Features(Tensor input)
    {
        CheckInput(input, InputSize);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return Trunk(input).MoveToOuterDisposeScope();
    }
}
