using FaceDistill.Core;

namespace FaceDistill.Data;

/// <summary>The images of a folder (recursively, in ordinal order), or a single image file.</summary>
public static class ImageFolder
{
    /// <summary>Every image below <paramref name="path"/> (a file is a list of one); an error naming the path when it
    /// does not exist or holds no image.</summary>
    public static List<string> List(string path, bool allowFile = true)
    {
        if (allowFile && File.Exists(path))
            return [path];
        if (!Directory.Exists(path))
            throw FaceDistillException.ForFile(path, allowFile ? "no such image or folder" : "no such folder");
        var files = Directory
            .EnumerateFiles(path, "*", SearchOption.AllDirectories)
            .Where(ImageCodec.IsImagePath)
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0)
            throw FaceDistillException.ForFile(path, "folder holds no images");
        return files;
    }
}
