using FaceDistill.Core;
using FaceDistill.Data;

namespace FaceDistill.Omni;

/// <summary>A condensed set: N images per class (learned, or selected from the source), as pixels <c>[M, 3, S, S]</c>
/// in [−1, 1] grouped by class; the loss per iteration of a learned set; notes on classes that had fewer images than
/// N (they keep what they have) or none (skipped).</summary>
public sealed record CondensedSet(
    float[] Pixels,
    int[] Labels,
    int Size,
    int Classes,
    int[] SourceIndex,
    IReadOnlyList<double> Losses,
    IReadOnlyList<string> Notes
)
{
    public int Count => Labels.Length;

    /// <summary>Each image's label distribution, row-major <c>[M, C]</c>, where the labels are soft (learned, or the
    /// primitive model's); null for hard labels.</summary>
    public float[]? SoftLabels { get; init; }

    /// <summary>Mean absolute pixel change from the initial real images (learned sets; 0 for selections).</summary>
    public double MovedFromInit { get; init; }
}

/// <summary>
/// Condenses a labelled set into N images per class (Liu et al.'s dataset-distillation step of omni-supervised FER):
/// learned by <see cref="DistributionMatching"/> or <see cref="GradientMatching"/> (initialised from N random real
/// images of each class), or selected as the baselines every table shows at the same N — a seeded random subset, or
/// <see cref="Herding"/> on the primitive model's features. A learned condensation writes a snapshot (images, momentum,
/// iteration, losses) under its state folder every few iterations, atomically; run again, it continues from the
/// snapshot, and since each iteration's randomness is a function of (seed, iteration), it ends with the same images as
/// a run never stopped.
/// </summary>
public static class DatasetCondensation
{
    /// <param name="classOf">the class of source item i (−1: unlabelled, ignored)</param>
    /// <param name="features">herding: the unit-length embedding of source item i</param>
    public static CondensedSet Run(
        IFaceDataset source,
        Func<int, int> classOf,
        int classes,
        int size,
        CondenseOptions o,
        string stateDir,
        Func<int, float[]>? features = null,
        CancellationToken cancel = default,
        IReadOnlyList<string>? classNames = null
    )
    {
        o.Check();
        string Name(int c) => classNames is not null && c < classNames.Count ? classNames[c] : c.ToString();
        var byClass = Enumerable
            .Range(0, classes)
            .Select(c => Enumerable.Range(0, source.Count).Where(i => classOf(i) == c).ToArray())
            .ToArray();
        var notes = new List<string>();
        for (int c = 0; c < classes; c++)
            if (byClass[c].Length == 0)
                notes.Add($"class {Name(c)}: no image, skipped");
            else if (byClass[c].Length < o.ImagesPerClass)
                notes.Add($"class {Name(c)}: {byClass[c].Length} images < N = {o.ImagesPerClass}, keeps them all");
        if (byClass.All(b => b.Length == 0))
            throw new FaceDistillException("nothing to condense: no class has an image");
        var picks = Initial(byClass, o, features);
        var labels = picks.SelectMany((p, c) => Enumerable.Repeat(c, p.Length)).ToArray();
        var flat = picks.SelectMany(p => p).ToArray();
        var sampler = new RealSampler(source, byClass, size, o.RealBatch, Seeds.Derive(o.Seed, 0x4EA1));
        using var init = sampler.Images(flat);
        var initPixels = init.data<float>().ToArray();
        if (!o.Learned)
            return new CondensedSet(initPixels, labels, size, classes, flat, [], notes);
        var (pixels, soft, losses) = Learn(initPixels, labels, classes, size, o, sampler, stateDir, cancel);
        double moved = pixels.Zip(initPixels).Average(p => Math.Abs(p.First - p.Second));
        return new CondensedSet(pixels, labels, size, classes, flat, losses, notes)
        {
            MovedFromInit = moved,
            SoftLabels = soft,
        };
    }

    /// <summary>The selected images per class: herding on features, else a seeded random draw (also the initialisation
    /// of a learned set).</summary>
    private static int[][] Initial(int[][] byClass, CondenseOptions o, Func<int, float[]>? features)
    {
        return byClass
            .Select(
                (items, c) =>
                {
                    if (o.Algorithm == "herding")
                    {
                        if (features is null)
                            throw new FaceDistillException("herding needs the primitive model's features");
                        return Herding
                            .Select(items.Select(features).ToList(), o.ImagesPerClass)
                            .Select(k => items[k])
                            .ToArray();
                    }
                    var order = Seeds.Permutation(items.Length, Seeds.Derive(o.Seed, c, 0x1417));
                    return order.Take(o.ImagesPerClass).Select(k => items[k]).ToArray();
                }
            )
            .ToArray();
    }

    private static (float[] Pixels, float[]? SoftLabels, List<double> Losses) Learn(
        float[] initPixels,
        int[] labels,
        int classes,
        int size,
        CondenseOptions o,
        RealSampler sampler,
        string stateDir,
        CancellationToken cancel
    )
    {
        var statePath = Path.Combine(stateDir, "condense-state.bin");
        int labelValues = o.LearnsLabels ? labels.Length * classes : 0;
        var state = CondensationState.Read(statePath, initPixels.Length, labelValues);
        using var syn = new SyntheticSet(
            state?.Pixels ?? initPixels,
            labels,
            classes,
            size,
            state?.Velocity,
            o.LearnsLabels ? state?.LabelLogits ?? SyntheticSet.InitialLabelLogits(labels, classes) : null,
            state?.LabelVelocity
        );
        var losses = state?.Losses.ToList() ?? [];
        ICondensation algorithm =
            o.Algorithm == "dm" ? new DistributionMatching(o, classes, size) : new GradientMatching(o, classes, size);
        using (var bar = Progress.Start($"condense ({o.Algorithm}, N = {o.ImagesPerClass})", o.Iterations))
        {
            for (int it = losses.Count; it < o.Iterations; it++)
            {
                if (cancel.IsCancellationRequested)
                {
                    CondensationState.Write(statePath, syn, losses);
                    cancel.ThrowIfCancellationRequested();
                }
                double loss = NativeRetry.Run(() =>
                    algorithm.Iterate(
                        it,
                        syn,
                        sampler,
                        l => syn.Step(l, o.LearningRate, o.Momentum, o.LabelLearningRate)
                    )
                );
                if (!double.IsFinite(loss))
                    throw new FaceDistillException(
                        $"condensation diverged at iteration {it} (loss {loss}): lower condense.learningRate"
                    );
                losses.Add(loss);
                bar.Update(it + 1, $"loss {loss:G4}");
                if ((it + 1) % o.SaveEvery == 0 && it + 1 < o.Iterations)
                    CondensationState.Write(statePath, syn, losses);
            }
        }
        CondensationState.Write(statePath, syn, losses);
        return (syn.PixelData(), syn.LabelDistributions(), losses);
    }
}
