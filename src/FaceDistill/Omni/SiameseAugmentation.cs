using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FaceDistill.Omni;

/// <summary>
/// Differentiable Siamese Augmentation (Zhao &amp; Bilen, ICML 2021), the DSA strategy
/// <c>color_crop_cutout_flip_scale_rotate</c> used by Distribution Matching and gradient matching: one set of random
/// parameters ω is drawn per call and applied <i>identically</i> to the real and the synthetic batch — sample i of
/// either batch gets transform A_ω,i — so the matching objective compares like with like, and every transform is a
/// differentiable function of the pixels, so the synthetic images receive gradients through it:
/// <code>
///   colour:   x ← x + (b − ½)            brightness, b ~ U(0, 1) (on [0, 1] pixels; ×2 on our [−1, 1] scale)
///             x ← (x − x̄_px)·2r + x̄_px   saturation, r ~ U(0, 1), x̄_px the pixel's channel mean
///             x ← (x − x̄)·(r + ½) + x̄    contrast, x̄ the image mean
///   affine:   scale s_x, s_y ~ U(1/1.2, 1.2), rotation θ ~ U(−15°, 15°), flip with p = ½, all one affine grid;
///             translation ±⅛ of the side (DSA's crop), bilinear grid_sample, zero padding
///   cutout:   a square of half the side set to 0 at a random centre
/// </code>
/// </summary>
public sealed class SiameseAugmentation
{
    private readonly Random _rng;

    public SiameseAugmentation(int seed) => _rng = new Random(seed);

    /// <summary>The parameters of one draw, for <paramref name="n"/> samples.</summary>
    public sealed record Draw(
        float[] Brightness,
        float[] Saturation,
        float[] Contrast,
        float[] Theta,
        float[] CutX,
        float[] CutY
    )
    {
        public int Count => Brightness.Length;
    }

    public Draw Sample(int n)
    {
        float U(double lo, double hi) => (float)(lo + (hi - lo) * _rng.NextDouble());
        var b = new float[n];
        var s = new float[n];
        var c = new float[n];
        var theta = new float[n * 6];
        var cx = new float[n];
        var cy = new float[n];
        for (int i = 0; i < n; i++)
        {
            b[i] = U(0, 1) - 0.5f;
            s[i] = U(0, 1) * 2;
            c[i] = U(0, 1) + 0.5f;
            float sx = U(1 / 1.2, 1.2),
                sy = U(1 / 1.2, 1.2),
                a = U(-15, 15) * MathF.PI / 180,
                flip = _rng.NextDouble() < 0.5 ? -1 : 1,
                tx = U(-0.125, 0.125) * 2,
                ty = U(-0.125, 0.125) * 2;
            // output → input sampling matrix: rotation · scale, with the flip on x
            theta[i * 6 + 0] = MathF.Cos(a) * sx * flip;
            theta[i * 6 + 1] = -MathF.Sin(a) * sy;
            theta[i * 6 + 2] = tx;
            theta[i * 6 + 3] = MathF.Sin(a) * sx * flip;
            theta[i * 6 + 4] = MathF.Cos(a) * sy;
            theta[i * 6 + 5] = ty;
            cx[i] = U(0, 1);
            cy[i] = U(0, 1);
        }
        return new Draw(b, s, c, theta, cx, cy);
    }

    /// <summary>A_ω(x) for a batch <c>[n, 3, S, S]</c> in [−1, 1], n ≤ the draw's count (sample i uses parameters
    /// i).</summary>
    public static Tensor Apply(Tensor x, Draw w)
    {
        long n = x.shape[0],
            size = x.shape[2];
        if (n > w.Count)
            throw new ArgumentException($"a draw of {w.Count} cannot augment {n} images");
        using var scope = NewDisposeScope();
        Tensor Col(float[] v) => tensor(v.AsSpan(0, (int)n).ToArray()).view(n, 1, 1, 1).to(x.device);
        var y = x + Col(w.Brightness) * 2;
        var pixMean = y.mean([1], keepdim: true);
        y = (y - pixMean) * Col(w.Saturation) + pixMean;
        var mean = y.mean([1, 2, 3], keepdim: true);
        y = (y - mean) * Col(w.Contrast) + mean;
        var theta = tensor(w.Theta.AsSpan(0, (int)n * 6).ToArray()).view(n, 2, 3).to(x.device);
        var grid = F.affine_grid(theta, [n, x.shape[1], size, size], align_corners: false);
        y = F.grid_sample(y, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: false);
        y = y * CutoutMask(w, n, size).to(x.device);
        return y.MoveToOuterDisposeScope();
    }

    private static Tensor CutoutMask(Draw w, long n, long size)
    {
        var mask = new float[n * size * size];
        int half = (int)(size / 4);
        for (int i = 0; i < n; i++)
        {
            int cx = (int)(w.CutX[i] * size),
                cy = (int)(w.CutY[i] * size);
            for (int yy = 0; yy < size; yy++)
            for (int xx = 0; xx < size; xx++)
            {
                bool inside = Math.Abs(xx - cx) < half && Math.Abs(yy - cy) < half;
                mask[(i * size + yy) * size + xx] = inside ? 0 : 1;
            }
        }
        return tensor(mask).view(n, 1, size, size);
    }
}
