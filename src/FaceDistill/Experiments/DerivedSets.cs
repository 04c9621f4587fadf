using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Omni;
using FaceDistill.Plots;
using FaceDistill.Runs;
using FaceDistill.Training;

namespace FaceDistill.Experiments;

/// <summary>What building one derived set gave (its <c>derive.json</c>): images per class, the precision of mined
/// labels where the truth is known, the seconds it took, and notes.</summary>
public sealed record DerivedSummary(
    string Name,
    string Kind,
    int Seed,
    int[] PerClass,
    double Precision,
    double Seconds,
    IReadOnlyList<string> Notes
)
{
    public int Count => PerClass.Sum();
}

/// <summary>
/// Builds the <see cref="DeriveStep"/>s of an experiment: a folder per set and seed (class = folder, what
/// <c>data.extra</c> reads), with <c>derive.json</c> (the step's spec, the model's checkpoint, the summary), a contact
/// sheet <c>grid.png</c>, and for mining <c>mined.csv</c> (every mined face: source, class, score, confidence,
/// similarity, vote, known label). A set whose <c>derive.json</c> matches is reused; one built from other settings is
/// refused. Features go to a store under the experiment's <c>.features</c> folder (resumable); a learned condensation
/// snapshots under <c>&lt;set&gt;.state</c> and resumes from it.
/// </summary>
public static class DerivedSets
{
    public const string SummaryFile = "derive.json";

    /// <summary>The class folder names of a task (what <see cref="FileFaceDataset.FromImageFolder"/> reads back to
    /// the same labels).</summary>
    public static IReadOnlyList<string> ClassNames(FaceTask task) =>
        task == FaceTask.Expression
            ? Enum.GetNames<Expression>().Select(n => n.ToLowerInvariant()).ToArray()
            : ["0-male", "1-female"];

    public static DerivedSummary Ensure(
        ExperimentPlan plan,
        DeriveStep step,
        int seed,
        string runsRoot,
        Action<string> log,
        CancellationToken cancel
    )
    {
        var dir = plan.DerivedDirectory(runsRoot, step, seed);
        var modelDir = plan.RunDirectory(runsRoot, plan.Run(step.Model), seed);
        var checkpoint =
            Checkpoint.Latest(Path.Combine(modelDir, "checkpoints"))
            ?? throw FaceDistillException.ForFile(modelDir, $"derive '{step.Name}': the model run has no checkpoint");
        var key = ModelKey(checkpoint);
        var summaryPath = Path.Combine(dir, SummaryFile);
        if (File.Exists(summaryPath))
        {
            var saved = JsonNode.Parse(File.ReadAllText(summaryPath));
            if (saved?["spec"]?.GetValue<string>() == step.Spec && saved?["model"]?.GetValue<string>() == key)
            {
                var s = saved["summary"]!.Deserialize<DerivedSummary>()!;
                return s with { Precision = s.Precision < 0 ? double.NaN : s.Precision };
            }
            throw FaceDistillException.ForFile(
                dir,
                $"derive '{step.Name}' was built from other settings or another model: remove it to build it again"
            );
        }
        if (Directory.Exists(dir))
            throw FaceDistillException.ForFile(dir, $"exists without {SummaryFile}: remove it to build it again");
        log($"derive {step.Name}-s{seed}: {(step.Mine is not null ? "mining" : "condensing")} with {modelDir}");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var run = TrainedRun.Load(modelDir);
        var featureDir = Path.Combine(runsRoot, plan.Name, ".features");
        var build = new Build(plan, step, seed, runsRoot, run, key, featureDir, dir, clock, cancel);
        var summary = step.Mine is not null ? Mine(build) : Condense(build);
        log(
            $"derive {step.Name}-s{seed}: {summary.Count} images ({string.Join(" ", summary.PerClass)}) in "
                + $"{summary.Seconds:F0} s"
                + (double.IsNaN(summary.Precision) ? "" : $", precision {100 * summary.Precision:F1} %")
        );
        foreach (var note in summary.Notes)
            log($"derive {step.Name}-s{seed}: {note}");
        return summary;
    }

    /// <summary>The model's identity: the SHA-256 manifest of its checkpoint.</summary>
    private static string ModelKey(string checkpoint)
    {
        var manifest = Path.Combine(checkpoint, Checkpoint.ManifestFile);
        var text = File.Exists(manifest) ? File.ReadAllText(manifest) : checkpoint;
        return TextHash.Sha256Hex(text, 32);
    }

    /// <summary>What building one set needs: the step, the seed, the model's run (and its key), where features and
    /// the set go, the clock of the build.</summary>
    private sealed record Build(
        ExperimentPlan Plan,
        DeriveStep Step,
        int Seed,
        string RunsRoot,
        TrainedRun Run,
        string Key,
        string FeatureDir,
        string Dir,
        System.Diagnostics.Stopwatch Clock,
        CancellationToken Cancel
    )
    {
        public FaceTask Task => Run.Task;
        public int Size => Run.Config.Data.ImageSize;
        public int Classes => Run.Classes;

        /// <summary>The model's feature store of <paramref name="data"/> (computed or resumed first).</summary>
        public FeatureStore Features(IFaceDataset data, string label) =>
            FeatureExtraction.Extract(Run.Model, Key, data, Size, FeatureDir, label: label, cancel: Cancel);
    }

    private static DerivedSummary Mine(Build b)
    {
        var (step, run, task, size, classes) = (b.Step, b.Run, b.Task, b.Size, b.Classes);
        var labelled = run.Data.Train;
        var parts = new List<IFaceDataset>();
        if (step.Unlabelled)
            parts.Add(RunData.Unlabelled(run.Config));
        if (step.Pool.Count > 0)
        {
            var sources = step.Pool.Select(PoolSource.Of).ToList();
            IFaceDataset pool = FacePool.Open(sources, RunData.PoolCacheDir).Distinct();
            parts.Add(step.Grayscale ? new GrayscaleDataset(pool) : pool);
        }
        parts.RemoveAll(p => p.Count == 0);
        if (parts.Count == 0)
            throw new FaceDistillException($"derive '{step.Name}': the pool holds no face to mine");
        var poolSet = parts.Count == 1 ? parts[0] : new ConcatDataset(parts);
        int truthParts = step.Unlabelled ? parts[0].Count : 0; // known labels: the hidden ones of the remainder
        using var labStore = b.Features(labelled, "features (labelled)");
        using var poolStore = b.Features(poolSet, "features (pool)");
        int d = labStore.Dim - classes;
        var labFeatures = new float[labelled.Count * labStore.Dim];
        labStore.Read(0, labelled.Count, labFeatures);
        var lab = new float[labelled.Count * d];
        for (int i = 0; i < labelled.Count; i++)
            labFeatures.AsSpan(i * labStore.Dim, d).CopyTo(lab.AsSpan(i * d, d));
        var labels = Enumerable.Range(0, labelled.Count).Select(i => task.ClassLabel(labelled.Labels(i))).ToArray();
        List<MinedFace> mined;
        using (var bar = Progress.Start($"mine ({step.Name})", poolSet.Count))
            mined = ConfidentMining.Mine(lab, labels, classes, poolStore, step.Mine!, bar);
        int Truth(long i) => i < truthParts ? task.ClassLabel(poolSet.Labels((int)i)) : -1;
        var stats = MiningSummary.Of(mined, classes, Truth);
        var names = ClassNames(task);
        var notes = Enumerable
            .Range(0, classes)
            .Where(c => stats.Mined[c] == 0)
            .Select(c => $"class {names[c]}: nothing mined")
            .ToList();
        var unreadable = FeatureExtraction.Skipped(poolStore);
        if (unreadable.Count > 0)
            notes.Add($"{unreadable.Count} pool images could not be decoded and were skipped, e.g. {unreadable[0]}");
        var images = mined
            .Select(m => ((Func<RgbImage>)(() => Resize(poolSet.Image((int)m.Index), size)), m.Class))
            .ToList();
        var summary = new DerivedSummary(step.Name, "mine", b.Seed, stats.Mined, stats.Precision, 0, notes);
        FaceSetWriter.Write(
            b.Dir,
            names,
            images,
            tmp =>
            {
                var rows = new List<string> { "source,class,score,confidence,similarity,vote,known" };
                foreach (var m in mined)
                {
                    int t = Truth(m.Index);
                    rows.Add(
                        string.Join(
                            ',',
                            Csv.Field(poolSet.Describe((int)m.Index)),
                            names[m.Class],
                            F(m.Score),
                            F(m.Confidence),
                            F(m.Similarity),
                            float.IsNaN(m.Vote) ? "" : F(m.Vote),
                            t < 0 ? "" : names[t]
                        )
                    );
                }
                AtomicFile.WriteAllText(Path.Combine(tmp, "mined.csv"), string.Join('\n', rows) + "\n");
                ImageGrid.Write(Path.Combine(tmp, "grid.png"), names, images, cell: Math.Min(size, 64));
                summary = summary with { Seconds = b.Clock.Elapsed.TotalSeconds };
                WriteSummary(tmp, step, b.Key, summary, new { stats.Known, stats.Correct });
            },
            label: $"write {step.Name}"
        );
        return summary;
    }

    private static DerivedSummary Condense(Build b)
    {
        var (step, run, task, size, classes) = (b.Step, b.Run, b.Task, b.Size, b.Classes);
        IFaceDataset source =
            step.From == "labelled"
                ? run.Data.Train
                : FileFaceDataset.FromImageFolder(
                    b.Plan.DerivedDirectory(b.RunsRoot, b.Plan.DeriveStep(step.From), b.Seed),
                    task
                );
        var o = step.Condense! with { Seed = Seeds.Derive(b.Seed, StableHash(step.Name)) };
        Func<int, float[]>? features = null;
        FeatureStore? store = null;
        try
        {
            if (o.Algorithm == "herding")
            {
                store = b.Features(source, "features");
                int d = store.Dim - classes;
                var s = store;
                features = i => s.Row(i)[..d];
            }
            var stateDir = b.Dir.TrimEnd('/', '\\') + ".state";
            var set = DatasetCondensation.Run(
                source,
                i => task.ClassLabel(source.Labels(i)),
                classes,
                size,
                o,
                stateDir,
                features,
                b.Cancel,
                ClassNames(task)
            );
            var names = ClassNames(task);
            var soft =
                o.SoftLabels == "model"
                    ? FeatureExtraction.Posteriors(run.Model, set.Pixels, size, o.LabelTemperature)
                    : set.SoftLabels;
            int per = 3 * size * size;
            var images = Enumerable
                .Range(0, set.Count)
                .Select(i =>
                    (
                        (Func<RgbImage>)(() => ImageGrid.FromTensorData(set.Pixels.AsSpan(i * per, per), size)),
                        set.Labels[i]
                    )
                )
                .ToList();
            var perClass = Enumerable.Range(0, classes).Select(c => set.Labels.Count(y => y == c)).ToArray();
            var summary = new DerivedSummary(step.Name, o.Algorithm, b.Seed, perClass, double.NaN, 0, set.Notes);
            FaceSetWriter.Write(
                b.Dir,
                names,
                images,
                tmp =>
                {
                    ImageGrid.Write(Path.Combine(tmp, "grid.png"), names, images, cell: Math.Max(size, 48));
                    if (soft is not null)
                        SoftLabels.Write(
                            Path.Combine(tmp, SoftLabels.FileName),
                            names,
                            FaceSetWriter
                                .RelativePaths(names, set.Labels)
                                .Select((f, i) => (f, soft.AsSpan(i * classes, classes).ToArray()))
                        );
                    var its = Enumerable.Range(1, set.Losses.Count).Select(i => (double)i).ToList();
                    int window = Math.Max(1, set.Losses.Count / 10);
                    var smooth = set.Losses.Select(
                        (_, i) => set.Losses.Skip(Math.Max(0, i - window + 1)).Take(Math.Min(window, i + 1)).Average()
                    );
                    if (set.Losses.Count > 0)
                        new LinePlot($"{step.Name}: condensation loss", "iteration", "loss")
                            .Add(o.Algorithm, its, set.Losses)
                            .Add($"mean of the last {window}", its, smooth)
                            .Save(Path.Combine(tmp, "loss.png"));
                    double Tenth(IEnumerable<double> xs) => xs.Take(window).DefaultIfEmpty(double.NaN).Average();
                    summary = summary with { Seconds = b.Clock.Elapsed.TotalSeconds };
                    WriteSummary(
                        tmp,
                        step,
                        b.Key,
                        summary,
                        new
                        {
                            set.MovedFromInit,
                            // soft labels: the mean probability each image's label puts on its own class
                            OwnClassProbability = soft is null
                                ? (double?)null
                                : set.Labels.Select((y, i) => (double)soft[i * classes + y]).DefaultIfEmpty().Average(),
                            // means over the first and the last tenth of the iterations (one iteration's loss,
                            // under a fresh random network, is noisy)
                            FirstTenthLoss = set.Losses.Count > 0 ? Tenth(set.Losses) : (double?)null,
                            LastTenthLoss = set.Losses.Count > 0 ? Tenth(set.Losses.Reverse()) : (double?)null,
                            Sources = set.SourceIndex.Select(i => source.Describe(i)).ToArray(),
                        }
                    );
                },
                label: $"write {step.Name}"
            );
            if (Directory.Exists(stateDir))
                Directory.Delete(stateDir, recursive: true);
            return summary;
        }
        finally
        {
            store?.Dispose();
        }
    }

    private static void WriteSummary(string dir, DeriveStep step, string key, DerivedSummary summary, object detail)
    {
        var node = new JsonObject
        {
            ["spec"] = step.Spec,
            ["model"] = key,
            ["summary"] = JsonSerializer.SerializeToNode(summary with { Precision = Finite(summary.Precision) }),
            ["detail"] = JsonSerializer.SerializeToNode(detail),
        };
        AtomicFile.WriteAllText(
            Path.Combine(dir, SummaryFile),
            node.ToJsonString(new JsonSerializerOptions { WriteIndented = true })
        );
    }

    /// <summary>NaN (no known label) is stored as −1: JSON has no NaN.</summary>
    private static double Finite(double x) => double.IsFinite(x) ? x : -1;

    private static RgbImage Resize(RgbImage img, int size)
    {
        var dst = new float[3 * size * size];
        Augment.ToTensorData(img, size, 1.0, AugmentOptions.None, null, dst);
        return ImageGrid.FromTensorData(dst, size);
    }

    private static string F(float x) => x.ToString("0.####", CultureInfo.InvariantCulture);

    private static long StableHash(string s) => s.Aggregate(17L, (h, ch) => h * 31 + ch);
}
