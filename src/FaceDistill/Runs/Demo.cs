using FaceDistill.Config;

namespace FaceDistill.Runs;

/// <summary>The main job on the built-in synthetic faces (same content as configs/demo.json): a MobileFaceNet with an
/// ArcFace head trained on synthetic identities, verified on held-out ones. Sized for 2 CPU cores: under 5 minutes,
/// or under a minute with quick.</summary>
public static class Demo
{
    public static RunSettings Config(bool quick) => quick ? QuickConfig : FullConfig;

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
