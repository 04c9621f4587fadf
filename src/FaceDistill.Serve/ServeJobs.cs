using FaceDistill.Core;
using FaceDistill.Data;
using FaceDistill.Faces;

namespace FaceDistill.Serve;

public enum JobKind
{
    Embed,
    Analyze,
}

/// <summary>One image of a request, still encoded: decoding happens on the batcher's thread, so the queue's memory is
/// bounded by its capacity × the body limit, and only one decoded image exists at a time.</summary>
public sealed record ServeJob(JobKind Kind, byte[] Bytes, string Name);

/// <summary>What became of one image: an error for the client (not an image, truncated, too many pixels), or its
/// faces — embedded by the served model, or analysed by the zoo.</summary>
public sealed record ServeJobResult(
    string? Error,
    int Width = 0,
    int Height = 0,
    IReadOnlyList<(FoundFace Face, float[] Embedding)>? Faces = null,
    IReadOnlyList<FaceAnalysis>? Analysis = null
);

/// <summary>The work of one batch: decode and find the faces of every image, then run all faces of all images of the
/// batch through the served model at once.</summary>
public sealed class ServeWorker(ServedModel model, FacePipeline pipeline)
{
    public IReadOnlyList<ServeJobResult> Run(IReadOnlyList<ServeJob> jobs)
    {
        var results = new ServeJobResult[jobs.Count];
        var pending = new List<(int Job, RgbImage Image, List<FoundFace> Faces)>();
        for (int i = 0; i < jobs.Count; i++)
        {
            RgbImage image;
            try
            {
                image = ImageCodec.Decode(jobs[i].Bytes, jobs[i].Name);
            }
            catch (FaceDistillException e)
            {
                results[i] = new ServeJobResult(e.Message);
                continue;
            }
            if (jobs[i].Kind == JobKind.Analyze)
                results[i] = new ServeJobResult(
                    null,
                    image.Width,
                    image.Height,
                    Analysis: NativeRetry.Run(() => pipeline.Zoo.Analyze(image))
                );
            else
                pending.Add((i, image, NativeRetry.Run(() => pipeline.Find(image))));
        }
        int faces = pending.Sum(p => p.Faces.Count),
            per = 3 * model.InputSize * model.InputSize;
        var pixels = new float[faces * per];
        int k = 0;
        foreach (var face in pending.SelectMany(p => p.Faces))
            face.Input.CopyTo(pixels.AsSpan(k++ * per, per));
        var embeddings = model.Embed(pixels, faces);
        k = 0;
        foreach (var (job, image, found) in pending)
            results[job] = new ServeJobResult(
                null,
                image.Width,
                image.Height,
                found.Select(f => (f, embeddings[k++])).ToList()
            );
        return results;
    }
}
