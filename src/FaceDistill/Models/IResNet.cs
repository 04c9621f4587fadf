using FaceDistill.Graphs.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceDistill.Models;

/// <summary>
/// IResNet, the "improved" pre-activation ResNet of ArcFace (Deng et al., 2019; InsightFace arcface_torch
/// <c>iresnet.py</c>): stem conv3×3/1 64 + BN + PReLU; four stages (64, 128, 256, 512 channels, each starting with
/// stride 2) of IBasicBlocks BN → conv3×3 → BN → PReLU → conv3×3(/s) → BN (+ 1×1 conv shortcut when the shape changes);
/// then BN → dropout → flatten → FC → BN (the "E" output structure). Depth 18/34/50/100: blocks [2,2,2,2], [3,4,6,3],
/// [3,4,14,3], [3,13,30,3]. At 112×112 the final map is 7×7.
/// With output <c>gdc</c> the flatten → FC is replaced by MobileFaceNet's embedding layer (Chen et al., 2018): a global
/// depthwise convolution whose kernel is the final map (one weight per channel and position, C·h·w parameters instead
/// of C·h·w·E), then a linear 1×1 convolution to E and BN.
/// </summary>
public sealed class IResNet : Backbone, IOnnxExportable
{
    private readonly nn.Module<Tensor, Tensor> features,
        dropout,
        fc;
    private readonly bool gdc;

    private sealed class IBasicBlock : nn.Module<Tensor, Tensor>, IOnnxExportable
    {
        private readonly nn.Module<Tensor, Tensor> body;
        private readonly nn.Module<Tensor, Tensor>? downsample;

        public IBasicBlock(long cin, long cout, long stride)
            : base("IBasicBlock")
        {
            body = nn.Sequential(
                nn.BatchNorm2d(cin, eps: 1e-5),
                nn.Conv2d(cin, cout, 3, 1, 1, bias: false),
                nn.BatchNorm2d(cout, eps: 1e-5),
                nn.PReLU(cout),
                nn.Conv2d(cout, cout, 3, stride, 1, bias: false),
                nn.BatchNorm2d(cout, eps: 1e-5)
            );
            if (stride != 1 || cin != cout)
                downsample = nn.Sequential(
                    nn.Conv2d(cin, cout, 1, stride, bias: false),
                    nn.BatchNorm2d(cout, eps: 1e-5)
                );
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var y = body.call(x);
            if (downsample is null)
                return y.add_(x);
            using var s = downsample.call(x);
            return y.add_(s);
        }

        public string ExportOnnx(OnnxGraph g, string x) =>
            g.Node("Add", [g.Module(body, x), downsample is null ? x : g.Module(downsample, x)]);
    }

    /// <summary>The embedding layers (<c>model.output</c>).</summary>
    public static readonly string[] Outputs = ["fc", "gdc"];

    public static int[] BlocksFor(int depth) =>
        depth switch
        {
            18 => [2, 2, 2, 2],
            34 => [3, 4, 6, 3],
            50 => [3, 4, 14, 3],
            100 => [3, 13, 30, 3],
            _ => throw new ArgumentException($"IResNet depth must be 18, 34, 50 or 100, got {depth}"),
        };

    public IResNet(
        int depth = 18,
        int inputSize = 112,
        int embeddingSize = 512,
        double dropoutRate = 0.0,
        double widthMultiplier = 1.0,
        string output = "fc"
    )
        : base($"IResNet{depth}", inputSize, embeddingSize)
    {
        var blocks = BlocksFor(depth);
        long W(long c) => Math.Max(8, (long)Math.Round(c * widthMultiplier));
        var stem = nn.Sequential(
            nn.Conv2d(3, W(64), 3, 1, 1, bias: false),
            nn.BatchNorm2d(W(64), eps: 1e-5),
            nn.PReLU(W(64))
        );
        var layers = new List<nn.Module<Tensor, Tensor>>();
        long cin = W(64);
        long[] widths = [W(64), W(128), W(256), W(512)];
        for (int s = 0; s < 4; s++)
        for (int b = 0; b < blocks[s]; b++)
        {
            layers.Add(new IBasicBlock(cin, widths[s], b == 0 ? 2 : 1));
            cin = widths[s];
        }
        features = nn.Sequential(
            ("stem", stem),
            ("stages", nn.Sequential(layers)),
            ("bn2", nn.BatchNorm2d(cin, eps: 1e-5))
        );
        var shape = OutputShape(features, 3, inputSize);
        dropout = nn.Dropout(dropoutRate);
        gdc = output == "gdc";
        fc = output switch
        {
            "fc" => nn.Sequential(
                nn.Linear(shape[1] * shape[2] * shape[3], embeddingSize),
                nn.BatchNorm1d(embeddingSize, eps: 1e-5)
            ),
            "gdc" => nn.Sequential(
                nn.Conv2d(cin, cin, (shape[2], shape[3]), groups: cin, bias: false),
                nn.BatchNorm2d(cin, eps: 1e-5),
                nn.Conv2d(cin, embeddingSize, 1, bias: false),
                nn.BatchNorm2d(embeddingSize, eps: 1e-5)
            ),
            _ => throw new ArgumentException(
                $"IResNet output must be one of {string.Join(", ", Outputs)}, got {output}"
            ),
        };
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var f = features.call(x);
        using var d = dropout.call(f);
        if (!gdc)
        {
            using var flat = d.flatten(1);
            return fc.call(flat);
        }
        using var e = fc.call(d);
        return e.flatten(1);
    }

    public string ExportOnnx(OnnxGraph g, string x) =>
        gdc
            ? g.Node("Flatten", [g.Module(fc, g.Module(features, x))], ("axis", 1L))
            : g.Module(fc, g.Node("Flatten", [g.Module(features, x)], ("axis", 1L)));
}
