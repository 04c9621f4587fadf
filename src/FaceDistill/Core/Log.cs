namespace FaceDistill.Core;

/// <summary>
/// Notes and warnings of the library (a resumed run, skipped images, a retried libtorch error). The library never
/// writes to the console: it calls <see cref="Sink"/>, which the command line points at standard error; by default
/// the messages are dropped.
/// </summary>
public static class Log
{
    public static Action<string> Sink { get; set; } = _ => { };

    public static void Info(string message) => Sink(message);

    public static void Warn(string message) => Sink($"warning: {message}");
}
