namespace FaceDistill.Core;

/// <summary>The user-level cache every run shares (<c>FACEDISTILL_HOME</c>, else <c>~/.cache/facedistill</c>): the
/// teacher weights installed from npm, their ONNX exports, and machine probes such as the convolution path.</summary>
public static class CacheHome
{
    public static string Path =>
        Environment.GetEnvironmentVariable("FACEDISTILL_HOME") is { Length: > 0 } h
            ? h
            : System.IO.Path.Combine(
                Environment.GetFolderPath(Environment.SpecialFolder.UserProfile),
                ".cache",
                "facedistill"
            );
}
