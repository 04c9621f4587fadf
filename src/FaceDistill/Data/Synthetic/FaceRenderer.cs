using FaceDistill.Core;
using SkiaSharp;

namespace FaceDistill.Data.Synthetic;

/// <summary>
/// Draws a synthetic face with SkiaSharp. Face geometry lives in a canonical frame (face half-width ≈ 1, y down),
/// is given a depth by an ellipsoid, rotated by yaw/pitch/roll and projected to pixels; so features on the front of
/// the face move with the head while the outline turns less, like a real head. Returns the image and the 68 landmarks
/// in the iBUG order (jaw 0–16, brows 17–26, nose 27–35, eyes 36–47, lips 48–67), in pixels.
/// </summary>
public static class FaceRenderer
{
    // expression table, in FER2013 order: Angry, Disgust, Fear, Happy, Neutral, Sad, Surprise
    private static readonly float[] Smile = [-0.25f, -0.35f, -0.15f, 1.0f, 0f, -0.75f, 0f];
    private static readonly float[] Open = [0.12f, 0.2f, 0.55f, 0.35f, 0f, 0f, 1.0f];
    private static readonly float[] BrowRaise = [-0.6f, -0.35f, 0.7f, 0.1f, 0f, 0.15f, 1.0f];
    private static readonly float[] BrowInner = [-1.0f, -0.5f, 0.8f, 0f, 0f, 1.0f, 0.2f];
    private static readonly float[] EyeOpen = [0.75f, 0.55f, 1.3f, 0.6f, 1f, 0.8f, 1.45f];
    private static readonly float[] MouthStretch = [0.9f, 0.95f, 1.12f, 1.18f, 1f, 0.92f, 0.75f];
    private static readonly float[] Asymmetry = [0f, 0.7f, 0f, 0f, 0f, 0f, 0f];
    private static readonly float[] NoseWrinkle = [0.4f, 1f, 0f, 0f, 0f, 0f, 0f];

    private sealed class Projector(SyntheticIdentity id, SyntheticShot shot, int size)
    {
        private readonly float _cy = MathF.Cos(shot.Yaw),
            _sy = MathF.Sin(shot.Yaw);
        private readonly float _cp = MathF.Cos(shot.Pitch),
            _sp = MathF.Sin(shot.Pitch);
        private readonly float _cr = MathF.Cos(shot.Roll),
            _sr = MathF.Sin(shot.Roll);
        private readonly float _k = size * 0.27f * shot.Scale;
        private readonly float _ox = size * (0.5f + shot.ShiftX),
            _oy = size * (0.53f + shot.ShiftY);

        public float Unit => _k;

        public SKPoint P(float x, float y, float extraDepth = 0)
        {
            float nx = x / id.FaceWidth,
                ny = y / id.FaceHeight;
            float z = 0.85f * MathF.Sqrt(MathF.Max(0, 1 - nx * nx - 0.55f * ny * ny)) + extraDepth;
            float x1 = x * _cy + z * _sy,
                z1 = -x * _sy + z * _cy;
            float y1 = y * _cp - z1 * _sp;
            float x2 = x1 * _cr - y1 * _sr,
                y2 = x1 * _sr + y1 * _cr;
            return new SKPoint(_ox + _k * x2, _oy + _k * y2);
        }
    }

    public static (RgbImage Image, float[] Landmarks) Render(SyntheticIdentity id, SyntheticShot shot, int size)
    {
        var info = new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var bmp = new SKBitmap(info);
        using (var canvas = new SKCanvas(bmp))
        {
            var lm = Draw(canvas, id, shot, size);
            var img = ImageCodec.FromBitmap(shot.Blur > 0 ? Blurred(bmp, shot.Blur * size / 112f) : bmp);
            AddNoise(img, shot.Noise, Seeds.Derive(id.Id, (long)(shot.Yaw * 1e6), shot.Expression));
            return (img, lm);
        }
    }

    private static SKBitmap Blurred(SKBitmap src, float sigma)
    {
        var dst = new SKBitmap(src.Info);
        using var canvas = new SKCanvas(dst);
        using var paint = new SKPaint { ImageFilter = SKImageFilter.CreateBlur(sigma, sigma) };
        canvas.DrawBitmap(src, 0, 0, paint);
        return dst;
    }

    private static void AddNoise(RgbImage img, float sigma, int seed)
    {
        if (sigma <= 0)
            return;
        var rng = new Random(seed);
        var px = img.Pixels;
        for (int i = 0; i < px.Length; i++)
        {
            // Irwin–Hall approximation of a Gaussian: cheap and good enough for sensor noise
            double g = rng.NextDouble() + rng.NextDouble() + rng.NextDouble() + rng.NextDouble() - 2.0;
            px[i] = (byte)Math.Clamp(px[i] + g * sigma * 1.732, 0, 255);
        }
    }

    private static SKColor Shade(SKColor c, float f) =>
        new(
            (byte)Math.Clamp(c.Red * f, 0, 255),
            (byte)Math.Clamp(c.Green * f, 0, 255),
            (byte)Math.Clamp(c.Blue * f, 0, 255),
            c.Alpha
        );

    private static SKPath Poly(IEnumerable<SKPoint> pts, bool close = true)
    {
        var path = new SKPath();
        bool first = true;
        foreach (var p in pts)
        {
            if (first)
            {
                path.MoveTo(p);
                first = false;
            }
            else
                path.LineTo(p);
        }
        if (close)
            path.Close();
        return path;
    }

    private static float[] Draw(SKCanvas c, SyntheticIdentity id, SyntheticShot s, int size)
    {
        using var sketch = new Sketch(c, id, s, size);
        return sketch.Draw();
    }

    /// <summary>One drawing of a face, part by part in painting order (back to front); the 68 landmarks are set by the
    /// parts that draw them.</summary>
    private sealed class Sketch : IDisposable
    {
        private readonly SKCanvas c;
        private readonly SyntheticIdentity id;
        private readonly SyntheticShot s;
        private readonly int size,
            e;
        private readonly Projector pr;
        private readonly float u,
            it,
            old,
            fw,
            fh,
            mouthY;
        private readonly SKColor hairColor;
        private readonly SKPaint fill = new() { IsAntialias = true, Style = SKPaintStyle.Fill };
        private readonly SKPaint stroke = new()
        {
            IsAntialias = true,
            Style = SKPaintStyle.Stroke,
            StrokeCap = SKStrokeCap.Round,
            StrokeJoin = SKStrokeJoin.Round,
        };
        private readonly SKPoint[] lm = new SKPoint[68];

        public Sketch(SKCanvas canvas, SyntheticIdentity identity, SyntheticShot shot, int size)
        {
            (c, id, s, this.size) = (canvas, identity, shot, size);
            pr = new Projector(id, s, size);
            u = pr.Unit;
            e = s.Expression;
            it = s.Intensity;
            old = Math.Clamp((id.Age - 40) / 40f, 0, 1);
            (fw, fh) = (id.FaceWidth, id.FaceHeight);
            hairColor = Shade(id.Hair, 1 + s.HairJitter);
            mouthY = id.EyeY + id.NoseLength + 0.26f;
        }

        public float[] Draw()
        {
            Background();
            BackHair();
            NeckAndEars();
            Skin();
            Jaw();
            Eyes();
            Brows();
            Nose();
            Mouth();
            FrontHair();
            var result = new float[136];
            for (int i = 0; i < 68; i++)
            {
                result[2 * i] = lm[i].X;
                result[2 * i + 1] = lm[i].Y;
            }
            return result;
        }

        public void Dispose()
        {
            fill.Dispose();
            stroke.Dispose();
        }

        /// <summary>The background gradient.</summary>
        private void Background()
        {
            using (
                var bg = new SKPaint
                {
                    Shader = SKShader.CreateLinearGradient(
                        new SKPoint(0, 0),
                        new SKPoint(size, size),
                        [s.Background1, s.Background2],
                        SKShaderTileMode.Clamp
                    ),
                }
            )
                c.DrawRect(0, 0, size, size, bg);
        }

        /// <summary>Half-width of the head outline at height y (the jaw narrows towards the chin).</summary>
        private float Width(float y)
        {
            float t = Math.Clamp(y / fh, -1, 1);
            float ell = MathF.Sqrt(MathF.Max(0, 1 - t * t));
            if (t > 0)
                ell *= 1 - (1 - id.Jaw) * 0.32f * t * t - id.Jaw * 0.08f * t;
            return fw * ell;
        }

        /// <summary>The outline is the silhouette: depth cancelled (extra −0.85) so it turns less than the
        /// features.</summary>
        private List<SKPoint> Outline() =>
            Enumerable
                .Range(0, 72)
                .Select(i =>
                {
                    float t = i * MathF.PI * 2 / 72;
                    float y = -fh * MathF.Cos(t);
                    float w = Width(y) * MathF.Sign(MathF.Sin(t));
                    return pr.P(w, y, -0.85f * MathF.Sqrt(MathF.Max(0, 1 - 0.55f * (y / fh) * (y / fh))));
                })
                .ToList();

        /// <summary>Long hair behind the head.</summary>
        private void BackHair()
        {
            if (id.HairStyle != 2)
                return;
            {
                fill.Color = hairColor;
                var back = new List<SKPoint>();
                for (int i = 0; i <= 20; i++)
                {
                    float t = MathF.PI * i / 20; // over the top, from left to right
                    back.Add(pr.P(-MathF.Cos(t) * fw * 1.2f, -MathF.Sin(t) * fh * 1.12f - 0.05f, -0.85f));
                }
                back.Add(pr.P(fw * 1.25f, fh * 1.05f, -0.85f));
                back.Add(pr.P(-fw * 1.25f, fh * 1.05f, -0.85f));
                using var p = Poly(back);
                c.DrawPath(p, fill);
            }
        }

        /// <summary>Neck and ears, behind the face.</summary>
        private void NeckAndEars()
        {
            fill.Color = Shade(id.Skin, 0.82f);
            using (
                var neck = Poly([
                    pr.P(-0.45f * fw, 0.5f * fh, -0.85f),
                    pr.P(0.45f * fw, 0.5f * fh, -0.85f),
                    pr.P(0.5f * fw, 2.2f, -0.85f),
                    pr.P(-0.5f * fw, 2.2f, -0.85f),
                ])
            )
                c.DrawPath(neck, fill);
            // ears
            fill.Color = Shade(id.Skin, 0.92f);
            foreach (var side in new[] { -1f, 1f })
            {
                var center = new SKPoint(side * fw * 0.97f, id.EyeY + 0.22f);
                var ear = Enumerable
                    .Range(0, 16)
                    .Select(i =>
                    {
                        float a = i * MathF.PI * 2 / 16;
                        return pr.P(
                            center.X + side * MathF.Cos(a) * id.EarSize * 0.45f,
                            center.Y + MathF.Sin(a) * id.EarSize,
                            -0.85f
                        );
                    });
                using var p = Poly(ear);
                c.DrawPath(p, fill);
            }
        }

        /// <summary>The face: skin with shading, beard or stubble, wrinkles, moles, cheeks — clipped to the
        /// outline.</summary>
        private void Skin()
        {
            // face
            using var facePath = Poly(Outline());
            fill.Color = Shade(id.Skin, s.Brightness);
            c.DrawPath(facePath, fill);
            c.Save();
            c.ClipPath(facePath, antialias: true);
            // directional shading, and a darker rim for a rounder look
            var lightDir = s.LightX - s.Yaw * 1.5f;
            var bounds = facePath.Bounds;
            using (
                var sh = new SKPaint
                {
                    Shader = SKShader.CreateLinearGradient(
                        new SKPoint(bounds.Left, 0),
                        new SKPoint(bounds.Right, 0),
                        lightDir >= 0
                            ? [new SKColor(0, 0, 0, (byte)(255 * s.LightStrength)), SKColors.Transparent]
                            : [SKColors.Transparent, new SKColor(0, 0, 0, (byte)(255 * s.LightStrength))],
                        SKShaderTileMode.Clamp
                    ),
                }
            )
                c.DrawRect(bounds, sh);
            using (
                var rim = new SKPaint
                {
                    Shader = SKShader.CreateRadialGradient(
                        pr.P(0, 0.1f),
                        bounds.Width * 0.62f,
                        [SKColors.Transparent, new SKColor(0, 0, 0, 60)],
                        [0.72f, 1f],
                        SKShaderTileMode.Clamp
                    ),
                }
            )
                c.DrawRect(bounds, rim);
            // beard / stubble
            if (id.Beard > 0)
            {
                fill.Color = hairColor.WithAlpha((byte)(90 + 150 * id.Beard));
                var beard = new List<SKPoint>();
                for (int i = 0; i <= 24; i++)
                {
                    float y = mouthY - 0.22f + (fh - mouthY + 0.3f) * i / 24f;
                    beard.Add(pr.P(-Width(y) * 1.02f, y));
                }
                for (int i = 24; i >= 0; i--)
                {
                    float y = mouthY - 0.22f + (fh - mouthY + 0.3f) * i / 24f;
                    beard.Add(pr.P(Width(y) * 1.02f, y));
                }
                using var p = Poly(beard);
                c.DrawPath(p, fill);
            }
            // wrinkles
            if (old > 0.05f)
            {
                stroke.Color = Shade(id.Skin, 0.6f).WithAlpha((byte)(200 * old));
                stroke.StrokeWidth = MathF.Max(0.6f, u * 0.012f);
                for (int k = 0; k < 3; k++)
                {
                    float y = id.EyeY - id.BrowGap - 0.16f - k * 0.1f;
                    using var p = Poly(
                        Enumerable.Range(0, 9).Select(i => pr.P(-0.45f + 0.9f * i / 8f, y + 0.02f * MathF.Sin(i))),
                        false
                    );
                    c.DrawPath(p, stroke);
                }
                foreach (var side in new[] { -1f, 1f })
                {
                    using var p = Poly(
                        [
                            pr.P(side * (id.NoseWidth + 0.05f), id.EyeY + id.NoseLength - 0.02f),
                            pr.P(side * (id.MouthWidth * 0.6f + 0.06f), mouthY + 0.05f),
                        ],
                        false
                    );
                    c.DrawPath(p, stroke);
                }
            }
            // moles
            fill.Color = Shade(id.Skin, 0.45f);
            foreach (var (mx, my, mr) in id.Moles)
                c.DrawCircle(pr.P(mx, my), mr * u, fill);
            // happy cheeks
            if (e == 3)
            {
                fill.Color = new SKColor(220, 90, 90, (byte)(40 * it));
                foreach (var side in new[] { -1f, 1f })
                    c.DrawCircle(pr.P(side * 0.5f, id.EyeY + 0.32f), 0.16f * u, fill);
            }
            c.Restore();
        }

        /// <summary>Jaw landmarks 0–16: from the left side at eye level, round the chin, to the right.</summary>
        private void Jaw()
        {
            float jawTop = id.EyeY + 0.08f;
            for (int j = 0; j <= 16; j++)
            {
                float t = (j - 8) / 8f; // -1 left .. 0 chin .. 1 right
                float y = jawTop + (fh - jawTop) * (1 - t * t);
                lm[j] = pr.P(
                    MathF.Sign(t) * Width(y),
                    y,
                    -0.85f * MathF.Sqrt(MathF.Max(0, 1 - 0.55f * (y / fh) * (y / fh)))
                );
            }
        }

        /// <summary>Eyes (landmarks 36–47): sclera, iris, pupil, highlight, lid line.</summary>
        private void Eyes()
        {
            float eyeOpen = 1 + (EyeOpen[e] - 1) * it;
            float sclera = 0.97f;
            for (int side = 0; side < 2; side++)
            {
                float sx = side == 0 ? -1 : 1;
                float cx = sx * id.EyeSpacing,
                    cy = id.EyeY;
                float w = id.EyeSize,
                    h = id.EyeSize * id.EyeAspect * eyeOpen;
                // landmark order (per eye): outer/inner corner, top two, other corner, bottom two — iBUG 36–41 / 42–47
                var pts = new SKPoint[6];
                float left = cx - w,
                    right = cx + w;
                pts[0] = pr.P(left, cy);
                pts[1] = pr.P(cx - w * 0.4f, cy - h * 0.9f);
                pts[2] = pr.P(cx + w * 0.4f, cy - h * 0.9f);
                pts[3] = pr.P(right, cy);
                pts[4] = pr.P(cx + w * 0.4f, cy + h * 0.75f);
                pts[5] = pr.P(cx - w * 0.4f, cy + h * 0.75f);
                Array.Copy(pts, 0, lm, 36 + 6 * side, 6);
                var eyePoly = Enumerable
                    .Range(0, 20)
                    .Select(i =>
                    {
                        float a = i * MathF.PI * 2 / 20;
                        float hh = MathF.Sin(a) < 0 ? h : h * 0.8f;
                        return pr.P(cx + MathF.Cos(a) * w, cy + MathF.Sin(a) * hh);
                    });
                using var eyePath = Poly(eyePoly);
                fill.Color = new SKColor((byte)(245 * sclera), (byte)(242 * sclera), (byte)(236 * sclera));
                c.DrawPath(eyePath, fill);
                c.Save();
                c.ClipPath(eyePath, antialias: true);
                var iris = pr.P(cx + s.Yaw * 0.05f, cy);
                fill.Color = id.Iris;
                c.DrawCircle(iris, w * 0.5f * u, fill);
                fill.Color = new SKColor(10, 10, 10);
                c.DrawCircle(iris, w * 0.22f * u, fill);
                fill.Color = new SKColor(255, 255, 255, 200);
                c.DrawCircle(iris.X + w * 0.12f * u, iris.Y - w * 0.12f * u, w * 0.08f * u, fill);
                c.Restore();
                stroke.Color = new SKColor(40, 25, 20);
                stroke.StrokeWidth = MathF.Max(0.8f, u * 0.025f);
                c.DrawPath(eyePath, stroke);
            }
        }

        /// <summary>Brows: 5 points each, outer to inner on the left (17–21), inner to outer on the right
        /// (22–26).</summary>
        private void Brows()
        {
            float raise = BrowRaise[e] * it,
                inner = BrowInner[e] * it;
            stroke.Color = Shade(id.Hair, id.Age > 55 ? 0.9f : 0.6f);
            stroke.StrokeWidth = id.BrowThickness * u;
            for (int side = 0; side < 2; side++)
            {
                float sx = side == 0 ? -1 : 1;
                var pts = new SKPoint[5];
                for (int k = 0; k < 5; k++)
                {
                    float f = k / 4f; // 0 outer .. 1 inner
                    float x = sx * (id.EyeSpacing + id.EyeSize * 1.1f - f * (id.EyeSize * 2.2f + 0.02f));
                    float y =
                        id.EyeY
                        - id.BrowGap
                        - 0.07f * raise
                        - id.BrowArch * MathF.Sin(MathF.PI * (0.2f + 0.8f * (1 - f)))
                        - 0.06f * inner * f
                        + 0.02f * f;
                    pts[side == 0 ? k : 4 - k] = pr.P(x, y);
                }
                Array.Copy(pts, 0, lm, 17 + 5 * side, 5);
                using var p = Poly(pts, false);
                c.DrawPath(p, stroke);
            }
        }

        /// <summary>Nose: bridge 27–30 (top to tip), base 31–35 (left to right).</summary>
        private void Nose()
        {
            float tipY = id.EyeY + id.NoseLength;
            for (int k = 0; k < 4; k++)
                lm[27 + k] = pr.P(0, id.EyeY + (tipY - id.EyeY) * k / 3f, 0.28f * k / 3f);
            float nw = id.NoseWidth * (1 + 0.15f * NoseWrinkle[e] * it);
            for (int k = 0; k < 5; k++)
                lm[31 + k] = pr.P(
                    -nw + 2 * nw * k / 4f,
                    tipY + 0.06f - 0.035f * MathF.Abs(k - 2) / 2f * (k is 0 or 4 ? -1 : 1),
                    0.12f
                );
            stroke.Color = Shade(id.Skin, 0.62f);
            stroke.StrokeWidth = MathF.Max(0.8f, u * 0.02f);
            using (
                var p = Poly(
                    [
                        pr.P(-0.06f, id.EyeY + 0.05f, 0.05f),
                        pr.P(-nw * 0.7f, tipY - 0.02f, 0.2f),
                        lm[31],
                        lm[32],
                        lm[33],
                        lm[34],
                        lm[35],
                        pr.P(nw * 0.7f, tipY - 0.02f, 0.2f),
                    ],
                    false
                )
            )
                c.DrawPath(p, stroke);
            fill.Color = Shade(id.Skin, 0.45f);
            foreach (var k in new[] { 32, 34 })
                c.DrawOval(lm[k], new SKSize(nw * 0.28f * u, nw * 0.16f * u), fill);
            if (NoseWrinkle[e] > 0)
            {
                stroke.Color = Shade(id.Skin, 0.6f).WithAlpha((byte)(160 * it * NoseWrinkle[e]));
                foreach (var dy in new[] { 0.0f, 0.05f })
                {
                    using var wp = Poly(
                        [pr.P(-0.07f, id.EyeY + 0.12f + dy, 0.1f), pr.P(0.07f, id.EyeY + 0.12f + dy, 0.1f)],
                        false
                    );
                    c.DrawPath(wp, stroke);
                }
            }
        }

        /// <summary>Mouth: outer lip 48–59 clockwise from the left corner, inner 60–67.</summary>
        private void Mouth()
        {
            float smile = Smile[e] * it,
                open = Open[e] * it,
                asym = Asymmetry[e] * it;
            float mw = id.MouthWidth * (1 + (MouthStretch[e] - 1) * it) / 2;
            float lt = id.LipThickness;
            float gap = open * 0.16f;
            SKPoint M(float x, float y) => pr.P(x, mouthY + y, 0.05f);
            float cornerL = -smile * 0.07f + asym * 0.04f,
                cornerR = -smile * 0.07f - asym * 0.03f;
            float bow = smile * 0.03f; // lower lip curves down in a smile
            lm[48] = M(-mw, cornerL);
            lm[49] = M(-mw * 0.55f, -lt * 0.9f - gap * 0.5f);
            lm[50] = M(-mw * 0.18f, -lt * 1.2f - gap * 0.5f);
            lm[51] = M(0, -lt - gap * 0.5f);
            lm[52] = M(mw * 0.18f, -lt * 1.2f - gap * 0.5f);
            lm[53] = M(mw * 0.55f, -lt * 0.9f - gap * 0.5f);
            lm[54] = M(mw, cornerR);
            lm[55] = M(mw * 0.55f, lt * 1.1f + gap * 0.5f + bow);
            lm[56] = M(mw * 0.18f, lt * 1.35f + gap * 0.5f + bow);
            lm[57] = M(0, lt * 1.4f + gap * 0.5f + bow);
            lm[58] = M(-mw * 0.18f, lt * 1.35f + gap * 0.5f + bow);
            lm[59] = M(-mw * 0.55f, lt * 1.1f + gap * 0.5f + bow);
            lm[60] = M(-mw * 0.85f, cornerL * 0.9f);
            lm[61] = M(-mw * 0.35f, -gap * 0.5f);
            lm[62] = M(0, -gap * 0.5f);
            lm[63] = M(mw * 0.35f, -gap * 0.5f);
            lm[64] = M(mw * 0.85f, cornerR * 0.9f);
            lm[65] = M(mw * 0.35f, gap * 0.5f + bow * 0.6f);
            lm[66] = M(0, gap * 0.5f + bow * 0.6f);
            lm[67] = M(-mw * 0.35f, gap * 0.5f + bow * 0.6f);
            fill.Color =
                id.Lips != SKColor.Empty
                    ? id.Lips
                    : new SKColor(
                        (byte)Math.Min(255, id.Skin.Red * 0.85 + 25),
                        (byte)(id.Skin.Green * 0.62),
                        (byte)(id.Skin.Blue * 0.62)
                    );
            using (var outer = Poly(lm[48..60]))
                c.DrawPath(outer, fill);
            using (var innerPath = Poly(lm[60..68]))
            {
                if (gap > 0.01f)
                {
                    fill.Color = new SKColor(60, 20, 25);
                    c.DrawPath(innerPath, fill);
                    if (e is 3 or 0 or 1)
                    {
                        c.Save();
                        c.ClipPath(innerPath, antialias: true);
                        fill.Color = new SKColor(238, 236, 225);
                        var top = M(0, -gap * 0.5f);
                        c.DrawRect(lm[60].X - u, top.Y, 2 * mw * u + 2 * u, gap * 0.45f * u, fill);
                        c.Restore();
                    }
                }
                stroke.Color = new SKColor(80, 30, 30);
                stroke.StrokeWidth = MathF.Max(0.7f, u * 0.018f);
                c.DrawPath(innerPath, stroke);
            }
        }

        /// <summary>Front hair over the forehead: a cap from the hairline up, with sides down to the ears.</summary>
        private void FrontHair()
        {
            fill.Color = hairColor;
            {
                var cap = new List<SKPoint>();
                float hl = id.Hairline + s.HairJitter;
                float sideDown =
                    id.HairStyle == 2 ? fh * 0.9f
                    : id.HairStyle == 4 ? id.EyeY + 0.1f
                    : id.EyeY - 0.05f;
                float top = -fh * 1.1f;
                // outer contour: left side bottom → over the top → right side bottom
                for (int i = 0; i <= 24; i++)
                {
                    float a = MathF.PI * i / 24;
                    cap.Add(pr.P(-MathF.Cos(a) * fw * 1.07f, MathF.Sin(a) * top - 0.02f, -0.7f));
                }
                cap.Add(pr.P(fw * 1.05f, sideDown, -0.85f));
                cap.Add(pr.P(fw * 0.9f, sideDown, -0.5f));
                // inner contour (the hairline), right to left; bald/receding leaves the crown bare
                float part = id.HairStyle == 1 ? 0.12f : 0;
                for (int i = 12; i >= 0; i--)
                {
                    float x = fw * (0.88f - 1.76f * i / 12f);
                    float arch = id.HairStyle == 4 ? -0.35f : 0.12f * (x / fw) * (x / fw);
                    float y = hl + arch + (id.HairStyle == 1 && x > 0 ? part * (1 - x / fw) : 0);
                    cap.Add(pr.P(-x, MathF.Max(y, top * 0.98f)));
                }
                cap.Add(pr.P(-fw * 0.9f, sideDown, -0.5f));
                cap.Add(pr.P(-fw * 1.05f, sideDown, -0.85f));
                using var p = Poly(cap);
                if (id.HairStyle == 4)
                {
                    // receding: only the sides and the back remain visible
                    c.Save();
                    using var clip = new SKPath();
                    var l = pr.P(-fw * 1.2f, -fh * 0.55f);
                    clip.AddRect(new SKRect(0, l.Y, size, size));
                    c.ClipPath(clip);
                    c.DrawPath(p, fill);
                    c.Restore();
                }
                else
                    c.DrawPath(p, fill);
                if (id.HairStyle == 3)
                    c.DrawCircle(pr.P(0, -fh * 1.18f, -0.85f), 0.33f * u, fill);
            }
        }
    }
}
