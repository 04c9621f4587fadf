namespace FaceDistill.Core;

/// <summary>A unit of long work reporting progress: done count and a status text (loss, LR, images/s).</summary>
public interface IProgressTask : IDisposable
{
    void Update(long done, string status = "");
}

/// <summary>Where long work reports its progress. The library only calls this interface; the command line installs a
/// console implementation (bars with rate and ETA), a library user any other, and by default nothing is
/// shown.</summary>
public interface IProgressReporter
{
    IProgressTask Start(string description, long total);
}

/// <summary>The process's progress reporter (<see cref="Silent"/> until a host sets one).</summary>
public static class Progress
{
    public static readonly IProgressReporter Silent = new SilentReporter();

    public static IProgressReporter Reporter { get; set; } = Silent;

    public static IProgressTask Start(string description, long total) => Reporter.Start(description, total);

    /// <summary>The task as an <see cref="IProgress{T}"/> that reports synchronously, on the caller's thread (unlike
    /// <see cref="System.Progress{T}"/>, which posts to the thread pool).</summary>
    public static IProgress<int> AsProgress(this IProgressTask task) => new Synchronous(task);

    private sealed class Synchronous(IProgressTask task) : IProgress<int>
    {
        public void Report(int value) => task.Update(value);
    }

    private sealed class SilentReporter : IProgressReporter
    {
        public IProgressTask Start(string description, long total) => new SilentTask();
    }

    private sealed class SilentTask : IProgressTask
    {
        public void Update(long done, string status = "") { }

        public void Dispose() { }
    }
}
