using FaceDistill.Core;
using SkiaSharp;

namespace FaceDistill.Data.Synthetic;

/// <summary>Everything that changes from one photo of a person to the next: expression (one of 7, with intensity),
/// head pose, framing, lighting, background, sensor noise and blur. Deterministic for (seed, id, image).</summary>
public sealed record SyntheticShot
{
    public int Expression { get; init; }
    public float Intensity { get; init; }
    public float Yaw { get; init; }
    public float Pitch { get; init; }
    public float Roll { get; init; }
    public float Scale { get; init; }
    public float ShiftX { get; init; }
    public float ShiftY { get; init; }
    public float LightX { get; init; } // -1 light from the left .. 1 from the right
    public float LightStrength { get; init; }
    public float Brightness { get; init; }
    public SKColor Background1 { get; init; }
    public SKColor Background2 { get; init; }
    public float Noise { get; init; } // Gaussian sigma, in 0..255 units
    public float Blur { get; init; } // Gaussian blur sigma, in pixels at 112 px
    public float HairJitter { get; init; }

    /// <summary><paramref name="difficulty"/> scales every nuisance (pose, light, noise, blur): 0 gives frontal, clean
    /// shots.</summary>
    public static SyntheticShot Create(int seed, int id, int image, float difficulty)
    {
        var r = Seeds.Rng(seed, id, image, 0x5407);
        float d = difficulty;
        SKColor RandomColor() => new((byte)r.Next(30, 230), (byte)r.Next(30, 230), (byte)r.Next(30, 230));
        return new SyntheticShot
        {
            Expression = r.Next(7),
            Intensity = (float)r.Uniform(0.55, 1.15),
            Yaw = (float)(r.NextGaussian() * 0.22 * d),
            Pitch = (float)(r.NextGaussian() * 0.12 * d),
            Roll = (float)(r.NextGaussian() * 0.10 * d),
            Scale = (float)(1 + r.NextGaussian() * 0.06 * d),
            ShiftX = (float)(r.NextGaussian() * 0.03 * d),
            ShiftY = (float)(r.NextGaussian() * 0.03 * d),
            LightX = (float)r.Uniform(-1, 1),
            LightStrength = (float)(r.Uniform(0, 0.45) * d),
            Brightness = (float)(1 + r.NextGaussian() * 0.15 * d),
            Background1 = RandomColor(),
            Background2 = RandomColor(),
            Noise = (float)(r.Uniform(0, 9) * d),
            Blur = (float)(r.NextDouble() < 0.3 * d ? r.Uniform(0.3, 1.0) : 0),
            HairJitter = (float)r.Uniform(-0.04, 0.04),
        };
    }
}
