namespace FaceDistill.Config;

// A run's config is plain data (arcface_torch style): these records are the whole schema. JSON/YAML keys are the
// camelCase property names; unknown keys and wrong types are rejected by ConfigLoader before any work starts. An
// experiment (a plan: Experiments/ExperimentPlan) builds one RunSettings per run and seed.

/// <summary>One run's settings: what a run config file holds, and what a run directory's config.json records once
/// resolved (<c>Runs.RunConfig</c>).</summary>
public sealed record RunSettings
{
    public string Name { get; init; } = "run";

    /// <summary>recognition | expression | age | gender</summary>
    public string Task { get; init; } = "recognition";
    public string Description { get; init; } = "";
    public DataConfig Data { get; init; } = new();
    public ModelConfig Model { get; init; } = new();
    public TrainConfig Train { get; init; } = new();
    public EvalConfig Eval { get; init; } = new();
    public DistillConfig Distill { get; init; } = new();
}

/// <summary>
/// Distillation from a teacher, added to the task loss (loss = task + weight(step) · term). The properties are the keys
/// every method (method, weight) or every method with a teacher (teacher, lambda, cache, cacheDir, teacherSize)
/// reads; a method's own keys are <see cref="MethodKey"/>s stated once in its entry of
/// <c>Distillation.DistillationMethods</c> and held in <see cref="Extra"/>. A key the chosen method does not read is
/// rejected; defaults are filled in when the config is resolved, so a run's config.json records the values it used.
/// </summary>
public sealed record DistillConfig
{
    /// <summary>none | kd | dkd | gkd | feature | triplet | ddl (ddl needs no teacher: its easy branch is the clean
    /// view). For the age task, kd is regression KD (L2 to the teacher's age).</summary>
    public string Method { get; init; } = "none";

    /// <summary>Weight of the term (every method).</summary>
    public double Weight { get; init; } = 1;

    /// <summary>The teacher: a FaceDistill run directory, zoo:&lt;net&gt;, or onnx:&lt;model.onnx&gt;. It sees the
    /// clean view.</summary>
    public string? Teacher { get; init; }

    /// <summary>Georgescu et al.'s mixing weight: when set, loss = (1 − λ)·task + λ·term (and <see cref="Weight"/> is
    /// unused). Teacher methods.</summary>
    public double? Lambda { get; init; }

    /// <summary>Compute the teacher's outputs on the (un-augmented) training set once, into a memory-mapped cache under
    /// <c>cacheDir</c>, and read them instead of running the teacher every step. Teacher methods.</summary>
    public bool? Cache { get; init; }
    public string? CacheDir { get; init; }

    /// <summary>The crop size the cached teacher sees (null = <c>data.imageSize</c>): a student trained at 64 px can
    /// learn from the teacher's outputs on the same faces at 112 px (the size the images are aligned at). Needs
    /// <c>cache</c>. Teacher methods.</summary>
    public int? TeacherSize { get; init; }

    /// <summary>The chosen method's own keys (<see cref="MethodKey"/>s declared in its registry entry, e.g. kd's
    /// <c>temperature</c>, triplet's <c>margin</c>); any key the method does not declare is rejected when the config is
    /// resolved, which also fills in the defaults.</summary>
    [System.Text.Json.Serialization.JsonExtensionData]
    public Dictionary<string, System.Text.Json.JsonElement>? Extra { get; init; }

    /// <summary>A number key's value (resolved configs hold every key with a default).</summary>
    public double Get(NumberKey key) => Find(key) ?? throw NotSet(key);

    /// <summary>A number key's value, null when it is unset.</summary>
    public double? Find(NumberKey key) =>
        Value(key) is { ValueKind: System.Text.Json.JsonValueKind.Number } v ? v.GetDouble() : null;

    /// <summary>An integer key's value (resolved configs hold every key with a default).</summary>
    public int Get(IntegerKey key) =>
        Value(key) is { ValueKind: System.Text.Json.JsonValueKind.Number } v ? v.GetInt32() : throw NotSet(key);

    /// <summary>A string key's value (resolved configs hold every key with a default).</summary>
    public string Get(TextKey key) => Find(key) ?? throw NotSet(key);

    /// <summary>A string key's value, null when it is unset.</summary>
    public string? Find(TextKey key) =>
        Value(key) is { ValueKind: System.Text.Json.JsonValueKind.String } v ? v.GetString() : null;

    /// <summary>The section with <paramref name="key"/> set to <paramref name="value"/> (configs built in code: tests,
    /// plug-ins).</summary>
    public DistillConfig With(MethodKey key, object? value) =>
        this with
        {
            Extra = new(Extra ?? []) { [key.Name] = System.Text.Json.JsonSerializer.SerializeToElement(value) },
        };

    private System.Text.Json.JsonElement? Value(MethodKey key) =>
        Extra is not null && Extra.TryGetValue(key.Name, out var v) ? v : null;

    private static InvalidOperationException NotSet(MethodKey key) =>
        new($"{key.Path} is not set (resolve the config first)");
}

public sealed record DataConfig
{
    /// <summary>synthetic | folder | utkface | csv | pool</summary>
    public string Source { get; init; } = "synthetic";

    /// <summary>pool: the image folders of a face pool without labels (label-free distillation), scanned once into a
    /// manifest under <c>runs/.pool</c>; duplicates (same content) are used once.</summary>
    public string[]? Pool { get; init; }

    /// <summary>pool: those of <see cref="Pool"/>'s folders that hold one person per subfolder (CelebA-299, glint6,
    /// ORL): their faces also carry an identity label, for a margin head beside the label-free term; the other faces
    /// carry none.</summary>
    public string[]? Identities { get; init; }

    /// <summary>Dataset folder (folder, utkface) or label file (csv).</summary>
    public string? Path { get; init; }
    public int ImageSize { get; init; } = 112;

    /// <summary>Fraction of the shorter image side kept around the centre before resizing (LFW-style loose
    /// crops).</summary>
    public double CenterCrop { get; init; } = 1.0;

    /// <summary>skip | fail: what an undecodable image does.</summary>
    public string OnError { get; init; } = "skip";
    public int Workers { get; init; } = 2;

    /// <summary>A fixed test set in the same format as <see cref="Path"/> (e.g. FER2013's test/ folder): evaluation
    /// uses it instead of a held-out fraction of the training data.</summary>
    public string? TestPath { get; init; }

    /// <summary>Cap on test images (0 = all), a seeded subset.</summary>
    public int MaxTestImages { get; init; }

    /// <summary>Seed of the train/validation split and of the subsets (null = train.seed). Fix it to compare seeds on
    /// the same held-out images.</summary>
    public int? SplitSeed { get; init; }

    /// <summary>Fraction held out for validation (classification/regression on real data).</summary>
    public double ValFraction { get; init; } = 0.1;

    /// <summary>Cap on training images (0 = all), taken after a seeded shuffle.</summary>
    public int MaxImages { get; init; }

    /// <summary>The labelled budget: this fraction of each class of the training split (in proportion, seeded by the
    /// split seed; at least one image per class); the rest is the unlabelled remainder omni-supervised mining may use,
    /// its labels hidden. 1 = all.</summary>
    public double LabelledFraction { get; init; } = 1;

    /// <summary>Extra labelled training folders (class = folder, e.g. a mined or condensed set written by an
    /// experiment's <c>derive</c> step), added to the training set as they are (no cap, no split).</summary>
    public string[]? Extra { get; init; }

    /// <summary>Unlabelled face folders (a face pool, <see cref="Pool"/>'s format) added to the training set of a
    /// classification run that distils from a teacher: those faces carry no task loss, only the teacher's
    /// (omni-supervised training over every face one has). Duplicates (same content) are used once.</summary>
    public string[]? Unlabelled { get; init; }

    /// <summary>Turn the <see cref="Unlabelled"/> faces grey (for a grey training set such as FER2013).</summary>
    public bool UnlabelledGrayscale { get; init; }

    /// <summary>The view the student trains on (and is evaluated on, unless eval.view says otherwise): clean,
    /// occluded:mask, occluded:vr, occluded:sunglasses, lowres:16 … The teacher always sees the clean view.</summary>
    public string View { get; init; } = "clean";

    /// <summary>68 landmarks of file datasets, needed by occluded views: a landmarks CSV (path,x0,y0…x67,y67), or "zoo"
    /// to compute them once with face-api's landmark net (cached under runs/.landmarks).</summary>
    public string? Landmarks { get; init; }
    public SyntheticConfig Synthetic { get; init; } = new();
    public AugmentConfig Augment { get; init; } = new();
}

public sealed record SyntheticConfig
{
    public int Identities { get; init; } = 200;
    public int ImagesPerIdentity { get; init; } = 20;

    /// <summary>Held-out identities (never seen in training) for verification / validation.</summary>
    public int ValIdentities { get; init; } = 60;
    public int ValImagesPerIdentity { get; init; } = 10;
    public int RenderSize { get; init; } = 112;
    public double Difficulty { get; init; } = 1.0;
    public int Seed { get; init; } = 7;
}

public sealed record AugmentConfig
{
    public bool Flip { get; init; } = true;
    public double ScaleMin { get; init; } = 0.9;
    public double ScaleMax { get; init; } = 1.0;
    public double Shift { get; init; } = 0.04;
    public double Brightness { get; init; } = 0.2;
    public double Contrast { get; init; } = 0.2;
    public double Saturation { get; init; } = 0.2;
}

public sealed record ModelConfig
{
    /// <summary>mobilefacenet | iresnet18 | iresnet34 | iresnet50 | resnet50 | vggf | vgg16</summary>
    public string Backbone { get; init; } = "mobilefacenet";
    public int EmbeddingSize { get; init; } = 128;

    /// <summary>Channel width multiplier (iresnet, resnet50, vgg16) for fast experiments.</summary>
    public double Width { get; init; } = 1.0;
    public double Dropout { get; init; }

    /// <summary>IResNet's embedding layer: <c>fc</c> (ArcFace's "E" output: the last feature map flattened into a
    /// linear layer) or <c>gdc</c> (MobileFaceNet's global depthwise convolution, then a linear 1×1 layer: the same
    /// spatial weighting at a fraction of the parameters).</summary>
    public string Output { get; init; } = "fc";
    public HeadConfig Head { get; init; } = new();
}

public sealed record HeadConfig
{
    /// <summary>arcface | cosface | combined | softmax | multiface (classification tasks use softmax; age uses
    /// regression)</summary>
    public string Type { get; init; } = "arcface";

    /// <summary>MultiFace: number of groups K the embedding is split into (embeddingSize must be divisible by
    /// it).</summary>
    public int Groups { get; init; } = 8;

    /// <summary>MultiFace: the margin head of each group (arcface | cosface | combined | softmax).</summary>
    public string GroupHead { get; init; } = "arcface";

    /// <summary>MultiFace: weight of an extra head on the full embedding (0 = none).</summary>
    public double FullWeight { get; init; }
    public double S { get; init; } = 64;

    /// <summary>Margins of the combined form cos(m1·θ + m2) − m3; null = the type's default.</summary>
    public double? M1 { get; init; }
    public double? M2 { get; init; }
    public double? M3 { get; init; }
}

public sealed record TrainConfig
{
    public int Epochs { get; init; } = 10;
    public int BatchSize { get; init; } = 64;
    public int Seed { get; init; } = 1;
    public OptimizerConfig Optimizer { get; init; } = new();
    public ScheduleConfig Schedule { get; init; } = new();

    /// <summary>Max global gradient norm (0 = no clipping).</summary>
    public double ClipGradNorm { get; init; } = 5.0;
    public int CheckpointEvery { get; init; } = 200;
    public int KeepCheckpoints { get; init; } = 2;

    /// <summary>Evaluate every N epochs (and always at the end).</summary>
    public int EvalEvery { get; init; } = 1;

    /// <summary>Start from the weights of this run directory (fine-tuning; parameters whose names and shapes
    /// match).</summary>
    public string? Init { get; init; }

    /// <summary>libtorch intra-op threads (0 = all cores).</summary>
    public int Threads { get; init; }
}

public sealed record OptimizerConfig
{
    /// <summary>sgd | adamw</summary>
    public string Type { get; init; } = "sgd";
    public double Lr { get; init; } = 0.1;
    public double Momentum { get; init; } = 0.9;
    public bool Nesterov { get; init; }
    public double WeightDecay { get; init; } = 5e-4;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;

    /// <summary>The backbone's learning rate as a fraction of <see cref="Lr"/> (discriminative fine-tuning): below 1 a
    /// pretrained backbone (<c>model.backbone: zoo:…</c>, <c>train.init</c>) moves slowly while the parts that start
    /// from scratch — the head, a distiller's projection — learn at the full rate; 0 freezes the backbone.</summary>
    public double BackboneLrScale { get; init; } = 1.0;

    /// <summary>Epochs at the start during which the backbone does not move (its LR is 0) while the rest learns:
    /// linear probing, then fine-tuning (LP-FT; Kumar et al., "Fine-Tuning can Distort Pretrained Features and
    /// Underperform Out-of-Distribution", ICLR 2022) — a head or projection that starts from scratch is fitted to the
    /// pretrained features before its gradients reach them.</summary>
    public double FreezeBackboneEpochs { get; init; }
}

public sealed record ScheduleConfig
{
    /// <summary>cosine | step | constant (after linear warm-up)</summary>
    public string Type { get; init; } = "cosine";
    public double WarmupEpochs { get; init; } = 1;

    /// <summary>Step schedule: epochs at which the LR is multiplied by <see cref="Gamma"/>.</summary>
    public double[] Milestones { get; init; } = [];
    public double Gamma { get; init; } = 0.1;

    /// <summary>Cosine floor, as a fraction of the base LR.</summary>
    public double MinLrFraction { get; init; }
}

public sealed record EvalConfig
{
    /// <summary>Verification pair list (LFW pairs.txt format); synthetic data makes its own.</summary>
    public string? Pairs { get; init; }

    /// <summary>Image root of the pair list.</summary>
    public string? Images { get; init; }
    public double CenterCrop { get; init; } = 1.0;

    /// <summary>68 landmarks of the pair images, needed to evaluate occluded views: a landmarks CSV (e.g. the one
    /// <c>facedistill align</c> writes) or "zoo".</summary>
    public string? Landmarks { get; init; }

    /// <summary>The view evaluated on (null = data.view).</summary>
    public string? View { get; init; }

    /// <summary>Verification with an occluded view: both | one — one side of every pair occluded, the other
    /// clean.</summary>
    public string PairSides { get; init; } = "both";

    /// <summary>Flip test-time augmentation: embedding of image + embedding of its mirror.</summary>
    public bool Flip { get; init; } = true;
    public int BatchSize { get; init; } = 128;

    /// <summary>Synthetic verification pairs: same-identity pairs per fold (as many different ones).</summary>
    public int PairsPerFold { get; init; } = 100;
}
