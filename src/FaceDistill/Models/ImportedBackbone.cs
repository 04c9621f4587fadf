using FaceDistill.Faces.Zoo;
using FaceDistill.Graphs.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FaceDistill.Models;

/// <summary>
/// A pretrained face net imported from its tfjs graph (<see cref="GraphFaceNet"/>: <c>model.backbone</c> =
/// <c>zoo:mobilefacenet</c>, <c>zoo:mobileface</c>, <c>zoo:faceres</c>, …) as a backbone, to be fine-tuned as a
/// student: the image batch in [−1, 1] is mapped to [0, 1] and preprocessed as the net's authors trained it (resized
/// to the net's own input, e.g. 112, whatever <c>data.imageSize</c> is); every weight of the graph is a trainable
/// parameter. The embedding is the net's own; a <c>model.embeddingSize</c> different from its width adds a learned
/// linear map to that size. The graph has no batch-norm statistics (they are folded into its constants), so train and
/// eval modes compute the same function. The weights come from the installed package at construction and from the
/// checkpoint when a trained run is loaded.
/// </summary>
public sealed class ImportedBackbone : Backbone, IOnnxExportable
{
    private readonly GraphFaceNet _net;
    private readonly Linear? _projection;

    public GraphFaceNetSpec Spec => _net.Spec;

    public ImportedBackbone(string name, int inputSize, int embeddingSize)
        : this(GraphFaceNet.Load(name), inputSize, embeddingSize) { }

    public ImportedBackbone(GraphFaceNet net, int inputSize, int embeddingSize)
        : base($"imported_{net.Spec.Name.Replace('-', '_')}", inputSize, embeddingSize)
    {
        _net = net;
        register_module("graph", net.Module);
        if (embeddingSize != net.Spec.EmbeddingSize)
        {
            _projection = nn.Linear(net.Spec.EmbeddingSize, embeddingSize);
            register_module("projection", _projection);
        }
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var input = _net.Input((x + 1) / 2);
        var e = _net.Embed(input);
        if (_projection is not null)
            e = _projection.call(e);
        return e.MoveToOuterDisposeScope();
    }

    /// <summary>The same computation as ONNX operators: [−1, 1] → [0, 1], TF-legacy bilinear resize (ONNX Resize,
    /// linear, asymmetric coordinates) when the input size differs from the net's, × Scale + Offset, the graph
    /// (<see cref="TfjsGraphOnnx"/>), the projection.</summary>
    public string ExportOnnx(OnnxGraph g, string x)
    {
        var unit = g.Node("Mul", [g.Node("Add", [x, g.Constant("one", [1f], [])]), g.Constant("half", [0.5f], [])]);
        if (InputSize != Spec.InputSize)
        {
            float s = (float)Spec.InputSize / InputSize;
            unit = g.Node(
                "Resize",
                [unit, "", g.Constant("scales", [1f, 1f, s, s], [4])],
                ("mode", "linear"),
                ("coordinate_transformation_mode", "asymmetric")
            );
        }
        var input = g.Node(
            "Add",
            [g.Node("Mul", [unit, g.Constant("scale", [Spec.Scale], [])]), g.Constant("offset", [Spec.Offset], [])]
        );
        var e = TfjsGraphOnnx.Export(g, _net.Module, input, Spec.Output);
        return _projection is null ? e : g.Module(_projection, e);
    }
}
