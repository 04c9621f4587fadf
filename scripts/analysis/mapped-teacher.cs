#:project ../../src/FaceDistill/FaceDistill.csproj
#:property Nullable=enable
#:property PublishAot=false
#:property JsonSerializerIsReflectionEnabledByDefault=true
// How well a strong teacher's embeddings, mapped into a compact net's space by least squares over the pool
// (Distillation/EmbeddingAlignment: what distill.anchor distils), verify LFW — the target's quality before any
// student is trained. docs/results/pool-distillation.md, "Distilling faceres in mobileface's own space".
//   dotnet run scripts/analysis/mapped-teacher.cs -- configs/recognition/pool-faceres.json mobileface-lsq-fer
// Reads (or builds) both nets' caches over the row's pool, as its training run does; the LFW embeddings are cached in
// runs/.embeddings. Prints one line per ridge ρ.
using FaceDistill.Data;
using FaceDistill.Distillation;
using FaceDistill.Distillation.Teachers;
using FaceDistill.Evaluation;
using FaceDistill.Experiments;
using FaceDistill.Runs;
using static TorchSharp.torch;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: mapped-teacher.cs <plan.json> <row with distill.anchor>");
    return 2;
}
var plan = ExperimentPlan.Load(args[0]);
var row = plan.Runs.FirstOrDefault(r => r.Name == args[1]);
if (row is null)
{
    Console.Error.WriteLine($"{args[0]}: no row '{args[1]}'");
    return 2;
}
var cfg = plan.Config(row, 1, "runs").Settings;
string teacherSpec = cfg.Distill.Teacher!,
    anchorSpec =
        cfg.Distill.Find(LabelFreeDistillation.Anchor)
        ?? throw new InvalidOperationException("the row sets no distill.anchor");
var data = RunData.From(cfg);
var options = DataLoaderOptions.ForTraining(cfg) with { ImageSize = cfg.Distill.TeacherSize ?? cfg.Data.ImageSize };

Tensor PoolEmbeddings(string spec, ITeacher net)
{
    using var cache = TeacherOutputCache.OpenOrBuild(
        net,
        TeacherFactory.Fingerprint(spec),
        data.Train,
        options,
        cfg.Distill.CacheDir!
    );
    using var online = new OnlineTeacher(net, cache: cache);
    return online.CachedEmbeddings()!;
}

var pairs = data.Pairs!;
Tensor Lfw(string spec, ITeacher net)
{
    var hash = System.Security.Cryptography.SHA256.HashData(
        System.Text.Encoding.UTF8.GetBytes($"{TeacherFactory.Fingerprint(spec)}|{options.ImageSize}|{cfg.Eval.Images}")
    );
    var key = $"mapped-teacher-{Convert.ToHexString(hash)[..24]}-{pairs.Images.Count}";
    var rows = EmbeddingCache.GetOrCompute(
        "runs/.embeddings",
        key,
        () => Embedder.Embed(net, pairs.Images, options.ImageSize, 1.0, false, 32)
    );
    return tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);
}

double Accuracy(Tensor embeddings)
{
    var e = nn.functional.normalize(embeddings, dim: 1);
    var flat = e.contiguous().data<float>().ToArray();
    int d = (int)e.shape[1];
    var rows = Enumerable.Range(0, (int)e.shape[0]).Select(i => flat[(i * d)..((i + 1) * d)]).ToArray();
    return Evaluator.Verify((_, _) => rows, pairs).Metrics["acc"];
}

using var teacher = TeacherFactory.Create(teacherSpec);
using var anchor = TeacherFactory.Create(anchorSpec);
var poolT = PoolEmbeddings(teacherSpec, teacher);
var poolA = PoolEmbeddings(anchorSpec, anchor);
var lfwT = Lfw(teacherSpec, teacher);
var lfwA = Lfw(anchorSpec, anchor);
Console.WriteLine($"pool: {poolT.shape[0]} faces; LFW {pairs.Pairs.Count} pairs, clean, no flip");
Console.WriteLine($"  {teacherSpec} alone: {Accuracy(lfwT):P2}   {anchorSpec} alone: {Accuracy(lfwA):P2}");
foreach (var rho in new[] { 0.03, 0.1, 0.3, 0.5, 1, 3, 10 })
{
    using var fit = EmbeddingAlignment.Fit(poolT, poolA, rho);
    var mapped = fit.Map(lfwT);
    var half = nn.functional.normalize(mapped, dim: 1) + nn.functional.normalize(fit.Centre(lfwA), dim: 1);
    Console.WriteLine(
        $"  ρ {rho,-5} (λ {fit.Lambda,6:F2}): R² on the pool {fit.RSquared:F3}; LFW with the mapped teacher "
            + $"τ {Accuracy(mapped):P2}, with τ and the anchor at α = 0.5 {Accuracy(half):P2}"
    );
}
return 0;
