using FaceDistill.Core;

namespace FaceDistill.Data;

/// <summary>A dataset reader as a config names it (<c>data.source</c>): whether its <c>data.path</c> is a file or a
/// folder, and how it reads one for a task.</summary>
public sealed record DataSource(string Name, bool PathIsFile, Func<string, FaceTask, FileFaceDataset>? Read) : INamed;

/// <summary>
/// The registry of data sources. <c>synthetic</c> (the built-in generator) needs no path; the others read files.
/// A new reader is its method on <see cref="FileFaceDataset"/> (or its own file) and one line here.
/// </summary>
public static class DataSources
{
    public const string Synthetic = "synthetic";

    /// <summary>A face pool without labels (<c>data.pool</c>): read by <see cref="FacePool"/>.</summary>
    public const string Pool = "pool";

    public static readonly Registry<DataSource> Registry = new(
        "data source",
        [
            new DataSource(Synthetic, false, null),
            new DataSource("folder", false, FileFaceDataset.FromImageFolder),
            new DataSource("utkface", false, (path, _) => FileFaceDataset.FromUtkFace(path, out int _)),
            new DataSource("csv", true, (path, _) => FileFaceDataset.FromCsv(path)),
            new DataSource(Pool, false, null),
        ]
    );
}
