using FaceDistill.Evaluation;
using FaceDistill.Faces;
using Microsoft.AspNetCore.Http;

namespace FaceDistill.Serve;

/// <summary>The endpoints: read the image(s) of a request (a multipart form, or the raw body with an image content
/// type), queue them, and shape the answer.</summary>
internal sealed class ServeHandlers(DynamicBatcher<ServeJob, ServeJobResult> batcher, ServedModel model)
{
    /// <summary>Seconds a client is told to wait when the queue is full.</summary>
    public const int RetryAfterSeconds = 1;

    public const string VerifyForm = "verify takes multipart/form-data with two image files, a and b";

    public IResult Health() =>
        Results.Json(
            new HealthResponse("ok", model.Name, model.InputSize, model.EmbeddingSize, model.Calibration is not null)
        );

    public Task<IResult> Embed(HttpRequest request) =>
        OneImage(
            request,
            JobKind.Embed,
            r => new EmbedResponse(
                model.Name,
                r.Width,
                r.Height,
                r.Faces!.Select(f => ServeJson.Face(f.Face, f.Embedding)).ToList()
            )
        );

    public Task<IResult> Analyze(HttpRequest request) =>
        OneImage(
            request,
            JobKind.Analyze,
            r => new
            {
                width = r.Width,
                height = r.Height,
                faces = r.Analysis!.Select(FaceAnalysisJson.Face).ToList(),
            }
        );

    /// <summary>The endpoints of one image: read it, queue it, shape its result as JSON.</summary>
    private async Task<IResult> OneImage(HttpRequest request, JobKind kind, Func<ServeJobResult, object> shape)
    {
        var (images, error) = await ReadImages(request, 1);
        if (error is not null)
            return error;
        var (result, failed) = await Submit(kind, images[0]);
        return failed ?? Results.Json(shape(result!));
    }

    public async Task<IResult> Verify(HttpRequest request)
    {
        if (!request.HasFormContentType)
            return Status(415, VerifyForm);
        var (images, error) = await ReadImages(request, 2);
        if (error is not null)
            return error;
        var a = Submit(JobKind.Embed, images[0]);
        var b = Submit(JobKind.Embed, images[1]);
        var (ra, fa) = await a;
        var (rb, fb) = await b;
        if (fa is not null || fb is not null)
            return fa ?? fb!;
        var best = (ServeJobResult r) => r.Faces!.OrderByDescending(f => f.Face.Detection.Score).FirstOrDefault();
        var (ea, eb) = (best(ra!), best(rb!));
        var cal = model.Calibration;
        double? score =
            ea.Embedding is null || eb.Embedding is null ? null : Embedder.Cosine(ea.Embedding, eb.Embedding);
        string? note =
            score is null ? $"no face in image {(ea.Embedding is null ? "a" : "b")}"
            : cal is null
                ? "the model has no calibrated threshold (a run: facedistill eval --calibrate, then export again; "
                    + "a combination: export --calibrate)"
            : null;
        return Results.Json(
            new VerifyResponse(
                model.Name,
                score is { } s ? Math.Round(s, 6) : null,
                score is { } s2 && cal is not null ? s2 > cal.Threshold : null,
                cal?.Threshold,
                cal?.Far,
                cal?.Source,
                ra!.Faces!.Count,
                rb!.Faces!.Count,
                note
            )
        );
    }

    private async Task<(ServeJobResult? Result, IResult? Error)> Submit(JobKind kind, (byte[] Bytes, string Name) image)
    {
        if (!batcher.TryEnqueue(new ServeJob(kind, image.Bytes, image.Name), out var pending))
            return (null, Busy());
        var result = await pending;
        return result.Error is { } e ? (null, Status(400, e)) : (result, null);
    }

    /// <summary>The request's images: form files (the first <paramref name="count"/>, or those named a and b), or the
    /// raw body when its content type is an image or application/octet-stream.</summary>
    private static async Task<((byte[] Bytes, string Name)[] Images, IResult? Error)> ReadImages(
        HttpRequest request,
        int count
    )
    {
        if (request.HasFormContentType)
        {
            IFormCollection form;
            try
            {
                form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException)
            {
                // no or a wrong boundary, a truncated form, too many fields, a bad header in a part
                return ([], Status(400, $"malformed multipart/form-data: {e.Message.Split('\n')[0].TrimEnd('.')}"));
            }
            var files =
                count == 2 && form.Files["a"] is { } fa && form.Files["b"] is { } fb
                    ? new[] { fa, fb }
                    : form.Files.Take(count).ToArray();
            if (files.Length < count)
                return (
                    [],
                    Status(400, count == 1 ? "the form has no image file" : "the form needs image files a and b")
                );
            var images = new (byte[], string)[count];
            for (int i = 0; i < count; i++)
            {
                using var ms = new MemoryStream();
                await files[i].CopyToAsync(ms, request.HttpContext.RequestAborted);
                images[i] = (ms.ToArray(), string.IsNullOrEmpty(files[i].FileName) ? files[i].Name : files[i].FileName);
            }
            return (images, null);
        }
        var type = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        if (type is null || !(type.StartsWith("image/") || type == "application/octet-stream"))
            return (
                [],
                Status(415, $"content type '{type ?? "none"}': send an image (image/*) or multipart/form-data")
            );
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, request.HttpContext.RequestAborted);
        return ([(body.ToArray(), "the request body")], null);
    }

    private static IResult Status(int status, string message) =>
        Results.Json(new ErrorResponse(message), statusCode: status);

    private static IResult Busy() => new BusyResult();

    private sealed class BusyResult : IResult
    {
        public async Task ExecuteAsync(HttpContext ctx)
        {
            ctx.Response.Headers.RetryAfter = RetryAfterSeconds.ToString();
            ctx.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await ctx.Response.WriteAsJsonAsync(new ErrorResponse("the queue is full; retry later"));
        }
    }
}
