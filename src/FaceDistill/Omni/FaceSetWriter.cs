using FaceDistill.Core;
using FaceDistill.Data;

namespace FaceDistill.Omni;

/// <summary>Writes a mined, condensed or selected set as an ordinary dataset — <c>&lt;class&gt;/&lt;n&gt;.png</c>
/// (class = folder, what <c>data.source: folder</c> and <c>data.extra</c> read); its contact sheet is an
/// <see cref="ImageGrid"/>.</summary>
public static class FaceSetWriter
{
    /// <summary>Writes <paramref name="images"/> (each with its class) into <paramref name="dir"/>, which must not
    /// exist yet; built under a temporary name and renamed, so a half-written set is never read.</summary>
    public static void Write(
        string dir,
        IReadOnlyList<string> classNames,
        IReadOnlyList<(Func<RgbImage> Image, int Class)> images,
        Action<string>? extra = null,
        string label = "write set"
    )
    {
        if (Directory.Exists(dir))
            throw FaceDistillException.ForFile(dir, "exists already (remove it to write the set again)");
        AtomicFile.WriteDirectory(
            dir,
            tmp =>
            {
                foreach (var name in classNames)
                    Directory.CreateDirectory(Path.Combine(tmp, name));
                var files = RelativePaths(classNames, images.Select(im => im.Class));
                using var bar = Progress.Start(label, images.Count);
                for (int i = 0; i < images.Count; i++)
                {
                    ImageCodec.Save(images[i].Image(), Path.Combine(tmp, files[i]));
                    bar.Update(i + 1);
                }
                extra?.Invoke(tmp);
            }
        );
    }

    /// <summary>Where <see cref="Write"/> puts each image, relative to the set's folder ('/'-separated): the k-th
    /// image of class c is <c>&lt;class c&gt;/&lt;k, 5 digits&gt;.png</c>.</summary>
    public static IReadOnlyList<string> RelativePaths(IReadOnlyList<string> classNames, IEnumerable<int> classes)
    {
        var next = new int[classNames.Count];
        return classes.Select(c => $"{classNames[c]}/{next[c]++:D5}.png").ToList();
    }
}
