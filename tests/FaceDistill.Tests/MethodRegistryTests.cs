using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Distillation;
using static TorchSharp.torch;

namespace FaceDistill.Tests;

/// <summary>The registries: a method is one entry (its keys and defaults stated once), and a key the chosen method does
/// not read is an error naming it.</summary>
public class MethodRegistryTests
{
    /// <summary>A throw-away method: pulls the embedding towards zero, its weight its own key
    /// <c>strength</c>.</summary>
    private sealed class ShrinkTerm(double strength) : IObjectiveTerm
    {
        public static int Calls;
        public string Name => "shrink";
        public IReadOnlyList<string> Views => [];
        public IEnumerable<TorchSharp.Modules.Parameter> Parameters => [];

        public double Weight(StepContext ctx) => strength;

        public Tensor Compute(StudentOutputs student, Batch batch, StepContext ctx)
        {
            Interlocked.Increment(ref Calls);
            return student.Embedding.pow(2).mean();
        }
    }

    private static readonly NumberKey Strength = new("strength", 0.5);

    private static readonly DistillMethod Shrink = new()
    {
        Name = "shrink",
        Paper = "(a test)",
        Teacher = TeacherOutput.None,
        Keys = [Strength],
        Validate = (c, checks) => checks.Positive(Strength.Path, c.Distill.Get(Strength)),
        Create = (d, _) => new ShrinkTerm(d.Get(Strength)),
    };

    [Fact]
    public void ANewMethodIsOneEntryItsKeysAreReadAndItTrains()
    {
        using var _ = DistillationMethods.Use(DistillationMethods.Builtin.With(Shrink));
        var cfg = RunConfig.Load(null, ["distill.method=shrink", "distill.strength=0.25"]).Settings;
        Assert.Equal(0.25, cfg.Distill.Get(Strength));
        // its default
        Assert.Equal(0.5, RunConfig.Load(null, ["distill.method=shrink"]).Settings.Distill.Get(Strength));
        Assert.Contains(
            "key 'distill.strength' must be positive",
            Assert
                .Throws<FaceDistillException>(() =>
                    RunConfig.Load(null, ["distill.method=shrink", "distill.strength=-1"]).Settings
                )
                .Message
        );
        Assert.Contains(
            "key 'distill.strength' must be a number",
            Assert
                .Throws<FaceDistillException>(() =>
                    RunConfig.Load(null, ["distill.method=shrink", "distill.strength=\"x\""]).Settings
                )
                .Message
        );
        // its key means nothing to another method
        Assert.Contains(
            "key 'distill.strength' is not read by distill.method 'ddl'",
            Assert
                .Throws<FaceDistillException>(() =>
                    RunConfig.Load(null, ["distill.method=ddl", "distill.strength=1"]).Settings
                )
                .Message
        );
        int before = ShrinkTerm.Calls;
        var tiny = TestUtil.Tiny("shrink", epochs: 1) with { Distill = cfg.Distill };
        var run = TrainingRun.Execute(tiny, TestUtil.TempDir(), ExistingRun.Refuse);
        Assert.True(ShrinkTerm.Calls > before);
        Assert.Contains("\"strength\": 0.25", File.ReadAllText(run.Run.ConfigPath));
    }

    [Fact]
    public void WithoutTheEntryTheMethodIsUnknown()
    {
        var e = Assert.Throws<FaceDistillException>(() => RunConfig.Load(null, ["distill.method=shrink"]).Settings);
        Assert.Contains(
            "key 'distill.method' is 'shrink', expected one of none, kd, dkd, gkd, feature, triplet, ddl, labelfree",
            e.Message
        );
    }

    [Fact]
    public void KeysAreCheckedPerMethodAndDefaultsAreTheMethodsOwn()
    {
        var teacher = TestUtil.TempDir();
        File.WriteAllText(Path.Combine(teacher, "config.json"), "{}");
        // DKD's β is its paper's 8, GKD's 4: no shared default leaks from one method to another
        Assert.Equal(
            8,
            RunConfig
                .Load(null, ["distill.method=dkd", $"distill.teacher={teacher}"])
                .Settings.Distill.Get(DecoupledKd.Beta)
        );
        Assert.Equal(
            4,
            RunConfig
                .Load(null, ["distill.method=gkd", $"distill.teacher={teacher}"])
                .Settings.Distill.Get(GroupedKd.Beta)
        );
        Assert.Equal(
            0.93,
            RunConfig
                .Load(null, ["distill.method=gkd", $"distill.teacher={teacher}"])
                .Settings.Distill.Get(GroupedKd.Threshold)
        );
        // a key of another method is an error naming it
        var e = Assert.Throws<FaceDistillException>(() =>
            RunConfig.Load(null, ["distill.method=dkd", $"distill.teacher={teacher}", "distill.threshold=0.9"]).Settings
        );
        Assert.Contains("key 'distill.threshold' is not read by distill.method 'dkd'", e.Message);
        e = Assert.Throws<FaceDistillException>(() => RunConfig.Load(null, ["distill.temperature=2"]).Settings);
        Assert.Contains("key 'distill.temperature' is not read by distill.method 'none'", e.Message);
        // the cached teacher's crop size: only with the cache (an online teacher sees the student's batch)
        e = Assert.Throws<FaceDistillException>(() =>
            RunConfig
                .Load(null, ["distill.method=kd", $"distill.teacher={teacher}", "distill.teacherSize=112"])
                .Settings
        );
        Assert.Contains("distill.teacherSize", e.Message);
        Assert.Contains("needs distill.cache: true", e.Message);
        Assert.Equal(
            112,
            RunConfig
                .Load(
                    null,
                    ["distill.method=kd", $"distill.teacher={teacher}", "distill.teacherSize=112", "distill.cache=true"]
                )
                .Settings.Distill.TeacherSize
        );
        // the resolved config records only what the method reads
        var json = ConfigLoader.ToJson(RunConfig.Load(null, ["distill.method=ddl"]).Settings);
        Assert.Contains("\"hardView\": \"lowres:16\"", json);
        Assert.DoesNotContain("temperature", json);
    }

    [Fact]
    public void EveryRegistryListsItsEntriesAndNamesTheUnknownOne()
    {
        Assert.Equal(["clean", "lowres", "occluded", "mix"], FaceViews.Registry.Names);
        Assert.Contains("mobilefacenet", FaceDistill.Models.Backbones.Registry.Names);
        Assert.Contains("multiface", FaceDistill.Models.Heads.Heads.Registry.Names);
        Assert.Equal(["synthetic", "folder", "utkface", "csv", "pool"], DataSources.Registry.Names);
        Assert.Contains(
            "unknown backbone 'resnet9'",
            Assert.Throws<FaceDistillException>(() => FaceDistill.Models.Backbones.Registry.Get("resnet9")).Message
        );
        Assert.Throws<ArgumentException>(() => DistillationMethods.Builtin.With(HintonKdTwice()));
    }

    private static DistillMethod HintonKdTwice() => TeacherStudentKd.Method with { };
}
