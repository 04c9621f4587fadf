using FaceDistill.Config;
using FaceDistill.Data;
using FaceDistill.Distillation;
using FaceDistill.Faces;
using FaceDistill.Models;
using FaceDistill.Models.Heads;

namespace FaceDistill.Runs;

/// <summary>A run config resolved and checked once (<see cref="RunConfig"/>), with what its names select looked up
/// once: the task, the distillation method (null: none), the backbone and head kinds the model section names, and
/// the training and evaluation views. <see cref="TrainingRun"/> takes it as it is; only <see cref="RunConfig"/> makes
/// one.</summary>
public sealed class ResolvedRun
{
    internal ResolvedRun(RunSettings settings)
    {
        Settings = settings;
        Task = FaceTaskExtensions.Parse(settings.Task);
        Method = DistillationMethods.Find(settings.Distill.Method);
        Backbone = Backbones.Registry.Get(settings.Model.Backbone);
        Head = Heads.Registry.Get(settings.Model.Head.Type);
        View = FaceViews.Parse(settings.Data.View);
        EvalView = FaceViews.Parse(settings.Eval.View ?? settings.Data.View);
    }

    /// <summary>Every value the run uses (what its config.json records).</summary>
    public RunSettings Settings { get; }

    public string Name => Settings.Name;
    public FaceTask Task { get; }

    /// <summary>The method of <c>distill.method</c>, null for <c>none</c>.</summary>
    public DistillMethod? Method { get; }

    /// <summary>The backbone kind of <c>model.backbone</c>.</summary>
    public BackboneKind Backbone { get; }

    /// <summary>The head kind <c>model.head.type</c> names (the age task always uses a regression head, and the
    /// attribute tasks turn the default arcface into softmax: <see cref="ModelFactory"/>).</summary>
    public HeadKind Head { get; }

    /// <summary>The student's training view (<c>data.view</c>).</summary>
    public FaceView View { get; }

    /// <summary>The view the run is evaluated on (<c>eval.view</c>, else <c>data.view</c>).</summary>
    public FaceView EvalView { get; }
}
