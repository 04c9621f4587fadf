namespace FaceDistill.Core;

/// <summary>
/// An error the user can act on: bad input, a missing file, a malformed config, a diverged loss.
/// The CLI prints <see cref="Exception.Message"/> as one line (no stack trace) and exits with code 2.
/// Messages name the file or key first: "<c>path: problem</c>".
/// </summary>
public class FaceDistillException : Exception
{
    public FaceDistillException(string message)
        : base(OneLine(message)) { }

    public FaceDistillException(string message, Exception inner)
        : base(OneLine(message), inner) { }

    /// <summary>The message as one line: line breaks (e.g. from a quoted bad input) become spaces, and a message
    /// longer than 600 characters is cut with an ellipsis.</summary>
    public static string OneLine(string message)
    {
        var one = string.Join(
            ' ',
            message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries).Select(s => s.Trim())
        );
        return one.Length <= 600 ? one : one[..597] + "...";
    }

    public static FaceDistillException ForFile(string path, string problem) => new($"{path}: {problem}");
}

/// <summary>Training produced a non-finite loss; the last good checkpoint is kept.</summary>
public sealed class TrainingDivergedException(string message) : FaceDistillException(message);
