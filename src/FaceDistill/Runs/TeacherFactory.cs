using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Distillation;
using FaceDistill.Distillation.Teachers;

namespace FaceDistill.Runs;

/// <summary>Resolves a teacher spec from a config (<c>distill.teacher</c>):
/// <c>zoo:recognition|expression|agegender</c> (the face-api ports), <c>zoo:emotion</c> (human's FER2013 net), the
/// imported face-embedding graphs (<c>zoo:faceres</c>, …),
/// <c>onnx:model.onnx?size=…&amp;order=…&amp;mean=…&amp;std=…</c> (any exported model through ONNX Runtime),
/// <c>run:&lt;dir&gt;</c> or a bare run directory (a FaceDistill checkpoint).</summary>
public static class TeacherFactory
{
    /// <summary>The zoo's teachers by name (<c>zoo:&lt;name&gt;</c>).</summary>
    public static readonly string[] ZooTeachers =
    [
        "recognition",
        "expression",
        "agegender",
        Faces.Zoo.EmotionNet.Name,
        .. Faces.Zoo.GraphFaceNets.All.Keys,
    ];

    private static string GraphNetSettings(string spec)
    {
        var net = Faces.Zoo.GraphFaceNets.All[spec[4..]];
        return $"{net.Preprocessing} → {net.Output}";
    }

    private static bool IsGraphNet(string spec) =>
        spec.StartsWith("zoo:", StringComparison.Ordinal) && Faces.Zoo.GraphFaceNets.All.ContainsKey(spec[4..]);

    /// <summary>
    /// Checks <c>distill.teacher</c> for a method that needs one: the spec names something that exists (a zoo net, an
    /// ONNX file, a run directory) and gives what the method reads — a logit method on the age task needs an age
    /// teacher; on class tasks, of the zoo <c>zoo:recognition</c> and the imported graphs (<c>zoo:faceres</c>, …;
    /// through centroid
    /// logits),
    /// and <c>zoo:expression</c> on the expression task (its logits mapped to FaceDistill's class order).
    /// </summary>
    public static void Validate(RunSettings c, DistillMethod method, ConfigChecks checks)
    {
        var spec = c.Distill.Teacher!;
        ValidateSpec("distill.teacher", spec, checks);
        foreach (var key in method.TeacherKeys)
            if (c.Distill.Find(key) is { } extra)
                ValidateSpec(key.Path, extra, checks);
        if (!spec.StartsWith("zoo:", StringComparison.Ordinal) || method.Teacher != TeacherOutput.Logits)
            return;
        if (c.Task == "age" && spec != "zoo:agegender")
            checks.Fail(
                "distill.teacher",
                $"regression KD on age needs an age teacher ('zoo:agegender' or an age run), not '{spec}'"
            );
        // zoo:recognition and the imported graphs only embed: they get centroid logits over the student's classes;
        // zoo:expression's logits come in FaceDistill's expression order (ZooTeacher maps face-api's)
        bool expression = c.Task == "expression" && spec is "zoo:expression" or "zoo:emotion";
        if (c.Task != "age" && !expression && spec != "zoo:recognition" && !IsGraphNet(spec))
            checks.Fail(
                "distill.method",
                $"'{method.Name}' needs the teacher's logits over the student's classes; '{spec}' has "
                    + "face-api's own (use 'feature')"
            );
    }

    /// <summary>A teacher spec under <paramref name="key"/> names something that exists: a zoo net, an ONNX file, a
    /// run directory.</summary>
    private static void ValidateSpec(string key, string spec, ConfigChecks checks)
    {
        checks.Describe(key, $"zoo:<{string.Join("|", ZooTeachers)}>, onnx:<file.onnx>[,options] or a run directory");
        if (spec.StartsWith("zoo:", StringComparison.Ordinal))
        {
            if (!ZooTeachers.Contains(spec[4..]))
                checks.Fail(key, $"is '{spec}', expected zoo: with one of {string.Join(", ", ZooTeachers)}");
        }
        else if (spec.StartsWith("onnx:", StringComparison.Ordinal))
        {
            var path = OnnxTeacherOptions.Parse(spec[5..]).Path;
            if (!checks.FileOk(path))
                throw FaceDistillException.ForFile(path, $"ONNX teacher model not found ({key})");
        }
        else if (!checks.DirOk(RunDirectoryOf(spec)))
            throw FaceDistillException.ForFile(RunDirectoryOf(spec), $"teacher run directory not found ({key})");
    }

    private static string RunDirectoryOf(string spec) =>
        spec.StartsWith("run:", StringComparison.Ordinal) ? spec[4..] : spec;

    public static ITeacher Create(string spec)
    {
        if (string.IsNullOrWhiteSpace(spec))
            throw new FaceDistillException("distill.teacher: empty teacher spec");
        if (IsGraphNet(spec))
            return GraphFaceNetTeacher.Load(spec[4..]);
        if (spec == "zoo:emotion")
            return EmotionTeacher.Load();
        if (spec.StartsWith("zoo:", StringComparison.Ordinal))
            return ZooTeacher.Load(spec[4..]);
        if (spec.StartsWith("run:", StringComparison.Ordinal))
            return CheckpointTeacher.Load(spec[4..]);
        if (spec.StartsWith("onnx:", StringComparison.Ordinal))
            return new OnnxTeacher(OnnxTeacherOptions.Parse(spec[5..]));
        return CheckpointTeacher.Load(spec);
    }

    /// <summary>What identifies the teacher's weights: the zoo's recorded checksums (for human's imported nets, of the
    /// net's own files, with its preprocessing and output: changing them must not read outputs cached under the old
    /// ones), or a checkpoint's size and time.</summary>
    public static string Fingerprint(string spec)
    {
        if (spec == "zoo:emotion")
            return $"{spec}|{Faces.Zoo.EmotionNet.Preprocessing}|fer-order|"
                + Faces.Zoo.HumanZoo.ModelChecksums(Faces.Zoo.EmotionNet.Name);
        if (IsGraphNet(spec))
            return $"{spec}|{GraphNetSettings(spec)}"
                + (GraphFaceNetTeacher.UsesOnnxRuntime ? "|onnxruntime" : "")
                + "|"
                + Faces.Zoo.HumanZoo.ModelChecksums(spec[4..]);
        if (spec.StartsWith("zoo:", StringComparison.Ordinal))
        {
            var sums = Path.Combine(Faces.Zoo.ModelZoo.ModelDir(), "checksums.json");
            // "fer-order": zoo:expression's logits are given in FaceDistill's class order (caches of the older,
            // face-api-ordered logits must not be read)
            return spec
                + (spec == "zoo:expression" ? "|fer-order" : "")
                + "|"
                + (File.Exists(sums) ? File.ReadAllText(sums) : Faces.Zoo.ModelZoo.Version);
        }
        if (spec.StartsWith("onnx:", StringComparison.Ordinal))
        {
            var path = OnnxTeacherOptions.Parse(spec[5..]).Path;
            return spec + "|" + (File.Exists(path) ? Faces.Zoo.ModelZoo.Sha256(path) : "");
        }
        var dir = spec.StartsWith("run:", StringComparison.Ordinal) ? spec[4..] : spec;
        var files = Directory.Exists(dir)
            ? Directory
                .EnumerateFiles(dir, "*", SearchOption.AllDirectories)
                .Where(f => f.Contains("checkpoint"))
                .Order(StringComparer.Ordinal)
                .ToList()
            : [];
        return spec
            + "|"
            + string.Join(
                ";",
                files.Select(f =>
                {
                    var fi = new FileInfo(f);
                    return $"{fi.Name}:{fi.Length}:{fi.LastWriteTimeUtc.Ticks}";
                })
            );
    }
}
