using FaceDistill.Core;

namespace FaceDistill.Distillation.Teachers;

/// <summary>
/// Resolves a teacher spec from a config (<c>distill.teacher</c>):
/// <c>zoo:recognition|expression|agegender</c> (the face-api ports), <c>onnx:model.onnx?size=…&amp;order=…&amp;mean=…&amp;std=…</c>
/// (any exported model through ONNX Runtime), <c>run:&lt;dir&gt;</c> or a bare run directory (a FaceDistill checkpoint).
/// </summary>
public static class TeacherFactory
{
    public static ITeacher Create(string spec)
    {
        if (string.IsNullOrWhiteSpace(spec)) throw new FaceDistillException("distill.teacher: empty teacher spec");
        if (spec.StartsWith("zoo:", StringComparison.Ordinal)) return ZooTeacher.Load(spec[4..]);
        if (spec.StartsWith("run:", StringComparison.Ordinal)) return CheckpointTeacher.Load(spec[4..]);
        if (spec.StartsWith("onnx:", StringComparison.Ordinal)) return new OnnxTeacher(OnnxTeacherOptions.Parse(spec[5..]));
        return CheckpointTeacher.Load(spec);
    }

    /// <summary>What identifies the teacher's weights: the zoo's recorded checksums, or a checkpoint's size and time.</summary>
    public static string Fingerprint(string spec)
    {
        if (spec.StartsWith("zoo:", StringComparison.Ordinal))
        {
            var sums = Path.Combine(Faces.Zoo.ModelZoo.ModelDir(), "checksums.json");
            return spec + "|" + (File.Exists(sums) ? File.ReadAllText(sums) : Faces.Zoo.ModelZoo.Version);
        }
        if (spec.StartsWith("onnx:", StringComparison.Ordinal))
        {
            var path = OnnxTeacherOptions.Parse(spec[5..]).Path;
            return spec + "|" + (File.Exists(path) ? Faces.Zoo.ModelZoo.Sha256(path) : "");
        }
        var dir = spec.StartsWith("run:", StringComparison.Ordinal) ? spec[4..] : spec;
        var files = Directory.Exists(dir) ? Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Where(f => f.Contains("checkpoint")).Order(StringComparer.Ordinal).ToList() : [];
        return spec + "|" + string.Join(";", files.Select(f => { var fi = new FileInfo(f); return $"{fi.Name}:{fi.Length}:{fi.LastWriteTimeUtc.Ticks}"; }));
    }
}
