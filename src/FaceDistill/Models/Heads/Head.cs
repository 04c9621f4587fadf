using FaceDistill.Graphs.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Models.Heads;

/// <summary>A training head on top of an embedding: <c>(embedding [N, D], labels [N] or null) → outputs</c>.
/// Classifier heads return logits <c>[N, C]</c> (with the margin applied only when labels are given); the regression
/// head returns <c>[N]</c>.</summary>
public abstract class Head(string name) : nn.Module<Tensor, Tensor?, Tensor>(name)
{
    /// <summary>The training loss of the head's outputs (cross-entropy for classifiers, L1 for regression).</summary>
    public abstract Tensor Loss(Tensor outputs, Tensor labels);

    /// <summary>The loss against class distributions <c>q [N, C]</c> (soft labels, <see cref="Data.SoftLabels"/>);
    /// only the softmax head trains on them.</summary>
    public virtual Tensor SoftLoss(Tensor outputs, Tensor targets) =>
        throw new Core.FaceDistillException(
            $"model.head.type: the {GetName()} does not train on soft labels (use \"softmax\")"
        );

    /// <summary>Cross-entropy with soft targets, <c>L = −(1/N) Σ_i Σ_c q_ic · log softmax(z_i)_c</c> (the hard
    /// cross-entropy where q_i is one-hot).</summary>
    public static Tensor SoftCrossEntropy(Tensor logits, Tensor targets) =>
        -(targets * nn.functional.log_softmax(logits, 1)).sum(1).mean();
}

/// <summary>No head: for label-free training, where the distillation term is the whole loss. Outputs the embedding;
/// its loss is 0.</summary>
public sealed class NoHead() : Head("NoHead")
{
    public override Tensor forward(Tensor x, Tensor? labels) => x;

    public override Tensor Loss(Tensor outputs, Tensor labels) =>
        zeros([], dtype: outputs.dtype, device: outputs.device);
}

/// <summary>Plain softmax classifier: <c>z = W·x + b</c>, loss cross-entropy.</summary>
public sealed class SoftmaxHead : Head, IOnnxExportable
{
    private readonly nn.Module<Tensor, Tensor> fc;

    public SoftmaxHead(long embeddingSize, long classes)
        : base("SoftmaxHead")
    {
        fc = nn.Linear(embeddingSize, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor? labels) => fc.call(x);

    public string ExportOnnx(OnnxGraph g, string x) => g.Module(fc, x);

    public override Tensor Loss(Tensor outputs, Tensor labels) => nn.functional.cross_entropy(outputs, labels);

    public override Tensor SoftLoss(Tensor outputs, Tensor targets) => SoftCrossEntropy(outputs, targets);
}

/// <summary>Regression head (age): <c>ŷ = w·x + b</c>, loss L1 (the MAE it is evaluated with).</summary>
public sealed class RegressionHead : Head, IOnnxExportable
{
    private readonly nn.Module<Tensor, Tensor> fc;

    public RegressionHead(long embeddingSize, double initialBias = 0)
        : base("RegressionHead")
    {
        fc = nn.Linear(embeddingSize, 1);
        using (no_grad())
            fc.parameters().Last().fill_(initialBias);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor? labels) => fc.call(x).squeeze(1);

    public string ExportOnnx(OnnxGraph g, string x) =>
        g.Node("Reshape", [g.Module(fc, x), g.ConstantInt64("shape", [-1])]);

    public override Tensor Loss(Tensor outputs, Tensor labels) => nn.functional.l1_loss(outputs, labels);
}
