using FaceDistill.Config;
using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Distillation;
using FaceDistill.Distillation.Teachers;

namespace FaceDistill.Runs;

/// <summary>The teacher of a run, as its config asks for it.</summary>
public static class RunTeacher
{
    /// <summary>The teacher of <c>distill.teacher</c>, reading its cache when <c>distill.cache</c> is set. An
    /// embedding-only teacher under a logit method gets <see cref="CentroidLogits"/> (which need the cache's embeddings
    /// of the training set, so the cache is built even when distill.cache is off).</summary>
    public static OnlineTeacher Create(
        DistillMethod method,
        RunSettings cfg,
        RunDatasets data,
        DataLoaderOptions options
    )
    {
        var d = cfg.Distill;
        var task = FaceTaskExtensions.Parse(cfg.Task);
        var teacher = TeacherFactory.Create(d.Teacher!);
        bool centroidLogits =
            method.Teacher == TeacherOutput.Logits
            && task != FaceTask.Age
            && teacher.Classes == 0
            && teacher.EmbeddingSize > 0;
        bool cached = d.Cache == true;
        if (!cached && !centroidLogits)
            return new OnlineTeacher(teacher);
        var cache = OpenCache(d, d.Teacher!, teacher, data, options);
        CentroidLogits? centroids = null;
        if (centroidLogits)
        {
            centroids = CentroidLogits.FromCache(
                cache,
                data.Train,
                task,
                data.Classes,
                d.Find(LogitDistillation.CentroidScale) ?? cfg.Model.Head.S
            );
            Log.Info(
                $"teacher {teacher.Name} has no logits: using s·cos to its {data.Classes} training-identity centroids "
                    + $"(s = {centroids.Scale})"
            );
        }
        if (cached)
            return new OnlineTeacher(teacher, cache: cache, centroids: centroids);
        cache.Dispose();
        return new OnlineTeacher(teacher, centroids: centroids);
    }

    /// <summary>The method's further teachers (<see cref="DistillMethod.TeacherKeys"/> that the config sets), each
    /// with its outputs on the training set cached as <c>distill.teacher</c>'s are (same crop size, same cache
    /// folder). The caller disposes them.</summary>
    public static Dictionary<string, OnlineTeacher> CreateExtra(
        DistillMethod method,
        RunSettings cfg,
        RunDatasets data,
        DataLoaderOptions options
    )
    {
        var d = cfg.Distill;
        var extra = new Dictionary<string, OnlineTeacher>();
        foreach (var key in method.TeacherKeys)
        {
            if (d.Find(key) is not { } spec)
                continue;
            var teacher = TeacherFactory.Create(spec);
            extra[key.Name] = new OnlineTeacher(teacher, cache: OpenCache(d, spec, teacher, data, options));
        }
        return extra;
    }

    private static TeacherOutputCache OpenCache(
        DistillConfig d,
        string spec,
        ITeacher teacher,
        RunDatasets data,
        DataLoaderOptions options
    ) =>
        TeacherOutputCache.OpenOrBuild(
            teacher,
            TeacherFactory.Fingerprint(spec),
            data.Train,
            d.TeacherSize is { } size ? options with { ImageSize = size } : options,
            d.CacheDir!
        );
}
