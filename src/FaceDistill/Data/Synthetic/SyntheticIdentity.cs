using FaceDistill.Core;
using SkiaSharp;

namespace FaceDistill.Data.Synthetic;

/// <summary>
/// The stable traits of one synthetic person: face shape, skin tone, eyes, brows, nose, mouth, hair, ears, and the
/// attributes age and gender, which change appearance (children: round faces and big eyes; age: wrinkles, grey hair,
/// thinner lips; gender: jaw width, brow weight, hair length, lip colour, beard). Deterministic for (seed, id).
/// </summary>
public sealed record SyntheticIdentity
{
    public int Id { get; init; }
    public int Gender { get; init; } // 0 male, 1 female (UTKFace convention)
    public float Age { get; init; }
    public float FaceWidth { get; init; }
    public float FaceHeight { get; init; }
    public float Jaw { get; init; } // 0 = pointed chin .. 1 = square jaw
    public SKColor Skin { get; init; }
    public float EyeSpacing { get; init; }
    public float EyeSize { get; init; }
    public float EyeAspect { get; init; }
    public float EyeY { get; init; }
    public SKColor Iris { get; init; }
    public float BrowThickness { get; init; }
    public float BrowGap { get; init; }
    public float BrowArch { get; init; }
    public float NoseLength { get; init; }
    public float NoseWidth { get; init; }
    public float MouthWidth { get; init; }
    public float LipThickness { get; init; }
    public SKColor Lips { get; init; }
    public SKColor Hair { get; init; }
    public int HairStyle { get; init; } // 0 short, 1 side part, 2 long, 3 bun/updo, 4 bald/receding
    public float Hairline { get; init; }
    public float EarSize { get; init; }
    public float Beard { get; init; } // 0 none .. 1 full
    public (float X, float Y, float R)[] Moles { get; init; } = [];

    private static readonly SKColor[] SkinTones =
    [
        new(255, 224, 196),
        new(241, 194, 160),
        new(224, 172, 128),
        new(198, 134, 96),
        new(160, 104, 70),
        new(120, 76, 50),
        new(88, 56, 38),
    ];
    private static readonly SKColor[] HairColors =
    [
        new(20, 16, 14),
        new(58, 38, 26),
        new(96, 64, 40),
        new(150, 110, 66),
        new(200, 170, 110),
        new(140, 60, 30),
        new(40, 30, 30),
    ];
    private static readonly SKColor[] IrisColors =
    [
        new(70, 45, 25),
        new(40, 30, 20),
        new(60, 100, 140),
        new(80, 110, 70),
        new(110, 90, 60),
    ];

    public static SyntheticIdentity Create(int seed, int id)
    {
        var r = Seeds.Rng(seed, id, 0x1D);
        int gender = r.Next(2);
        // age distribution loosely like UTKFace: many young adults, some children and elderly
        float age = (float)
            Math.Clamp(r.NextDouble() < 0.12 ? r.Uniform(3, 16) : 18 + Math.Abs(r.NextGaussian()) * 22, 1, 90);
        float child = age < 16 ? (16 - age) / 13f : 0; // 0..1
        float old = Math.Clamp((age - 40) / 40f, 0, 1);
        SKColor Lerp(SKColor[] pal, double t)
        {
            t = Math.Clamp(t, 0, pal.Length - 1.0001);
            int i = (int)t;
            double f = t - i;
            var a = pal[i];
            var b = pal[i + 1];
            return new SKColor(
                (byte)(a.Red + (b.Red - a.Red) * f),
                (byte)(a.Green + (b.Green - a.Green) * f),
                (byte)(a.Blue + (b.Blue - a.Blue) * f)
            );
        }
        var hair = Lerp(HairColors, r.NextDouble() * (HairColors.Length - 1));
        if (old > 0) // greying
        {
            float g = old * (float)r.Uniform(0.4, 1.0);
            hair = new SKColor(
                (byte)(hair.Red + (190 - hair.Red) * g),
                (byte)(hair.Green + (190 - hair.Green) * g),
                (byte)(hair.Blue + (195 - hair.Blue) * g)
            );
        }
        int style = gender == 1 ? (r.NextDouble() < 0.7 ? 2 : 3) : (old > 0.3 && r.NextDouble() < 0.5 ? 4 : r.Next(2));
        var moles = Enumerable
            .Range(0, r.Next(3))
            .Select(_ => ((float)r.Uniform(-0.7, 0.7), (float)r.Uniform(-0.2, 0.9), (float)r.Uniform(0.015, 0.035)))
            .ToArray();
        return new SyntheticIdentity
        {
            Id = id,
            Gender = gender,
            Age = MathF.Round(age),
            FaceWidth = (float)(r.Uniform(0.86, 1.04) * (gender == 0 ? 1.03 : 0.97) * (1 + 0.05 * child)),
            FaceHeight = (float)(r.Uniform(1.22, 1.42) * (1 - 0.12 * child)),
            Jaw = (float)Math.Clamp(r.Uniform(0.1, 0.8) + (gender == 0 ? 0.25 : -0.1), 0, 1),
            Skin = Lerp(SkinTones, r.NextDouble() * (SkinTones.Length - 1)),
            EyeSpacing = (float)r.Uniform(0.36, 0.47),
            EyeSize = (float)(r.Uniform(0.13, 0.18) * (1 + 0.3 * child)),
            EyeAspect = (float)r.Uniform(0.38, 0.62),
            EyeY = (float)(r.Uniform(-0.22, -0.08) + 0.12 * child),
            Iris = IrisColors[r.Next(IrisColors.Length)],
            BrowThickness = (float)(r.Uniform(0.035, 0.07) * (gender == 0 ? 1.35 : 0.85)),
            BrowGap = (float)r.Uniform(0.16, 0.26),
            BrowArch = (float)r.Uniform(0.0, 0.09),
            NoseLength = (float)(r.Uniform(0.36, 0.52) * (1 - 0.25 * child)),
            NoseWidth = (float)(r.Uniform(0.14, 0.24) * (1 - 0.2 * child)),
            MouthWidth = (float)r.Uniform(0.30, 0.46),
            LipThickness = (float)(r.Uniform(0.035, 0.075) * (gender == 1 ? 1.25 : 1.0) * (1 - 0.4 * old)),
            Lips =
                gender == 1 && r.NextDouble() < 0.6
                    ? new SKColor((byte)r.Next(150, 200), (byte)r.Next(40, 80), (byte)r.Next(60, 100))
                    : SKColor.Empty,
            Hair = hair,
            HairStyle = style,
            Hairline = (float)(r.Uniform(-1.05, -0.8) + (style == 4 ? 0.25 : 0)),
            EarSize = (float)r.Uniform(0.18, 0.28),
            Beard = gender == 0 && age >= 18 && r.NextDouble() < 0.35 ? (float)r.Uniform(0.3, 1.0) : 0,
            Moles = moles,
        };
    }
}
