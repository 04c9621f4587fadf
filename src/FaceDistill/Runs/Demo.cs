using FaceDistill.Config;

namespace FaceDistill.Runs;

/// <summary>The main job on the built-in synthetic faces (same content as configs/demo.json): a MobileFaceNet with an
/// ArcFace head trained on synthetic identities, verified on held-out ones. Sized for 2 CPU cores: under 5 minutes,
/// or under a minute with quick; <see cref="Tiny"/>, the same job in seconds, is what the tests train.</summary>
public static class Demo
{
    public static RunSettings Config(bool quick) => quick ? QuickConfig : FullConfig;

    /// <summary>The demo's job at its smallest — 8 identities at 32 px, an IResNet-18 at 1/8 width, two threads —
    /// which trains in seconds: the run every end-to-end test builds.</summary>
    public static RunSettings Tiny(string name, int epochs = 2) =>
        FullConfig with
        {
            Name = name,
            Description = "",
            Data = FullConfig.Data with
            {
                ImageSize = 32,
                Synthetic = new SyntheticConfig
                {
                    Identities = 8,
                    ImagesPerIdentity = 8,
                    ValIdentities = 6,
                    ValImagesPerIdentity = 4,
                    RenderSize = 48,
                },
            },
            Model = FullConfig.Model with
            {
                Backbone = "iresnet18",
                Width = 0.125,
                EmbeddingSize = 32,
                Head = FullConfig.Model.Head with { S = 16, M2 = 0.2 },
            },
            Train = FullConfig.Train with
            {
                Epochs = epochs,
                BatchSize = 16,
                CheckpointEvery = 3,
                EvalEvery = 1,
                Threads = 2,
            },
            Eval = new EvalConfig { PairsPerFold = 5, BatchSize = 32 },
        };

    private static readonly RunSettings FullConfig = new()
    {
        Name = "demo",
        Description = "demo: MobileFaceNet + ArcFace on synthetic faces, verification on held-out identities",
        Data = new DataConfig
        {
            ImageSize = 64,
            Synthetic = new SyntheticConfig
            {
                Identities = 80,
                ImagesPerIdentity = 20,
                ValIdentities = 60,
                ValImagesPerIdentity = 10,
                RenderSize = 64,
            },
        },
        Model = new ModelConfig
        {
            Backbone = "mobilefacenet",
            EmbeddingSize = 128,
            Head = new HeadConfig
            {
                Type = "arcface",
                S = 32,
                M2 = 0.3,
            },
        },
        Train = new TrainConfig
        {
            Epochs = 5,
            BatchSize = 64,
            CheckpointEvery = 100,
            EvalEvery = 5,
            Schedule = new ScheduleConfig { WarmupEpochs = 0.5 },
        },
        Eval = new EvalConfig { PairsPerFold = 100 },
    };

    private static readonly RunSettings QuickConfig = FullConfig with
    {
        Name = "demo-quick",
        Description = "quick demo: tiny synthetic set, 2 epochs",
        Data = FullConfig.Data with
        {
            Synthetic = FullConfig.Data.Synthetic with
            {
                Identities = 40,
                ImagesPerIdentity = 16,
                ValIdentities = 20,
                ValImagesPerIdentity = 6,
            },
        },
        Train = FullConfig.Train with { Epochs = 2, CheckpointEvery = 50, EvalEvery = 1 },
        Eval = new EvalConfig { PairsPerFold = 30 },
    };
}
