using System.Diagnostics;
using FaceDistill.Core;
using Spectre.Console;

namespace FaceDistill.Cli;

/// <summary>
/// Progress bars for long work. On a terminal: Spectre.Console bars (description with rate, bar, percentage, ETA).
/// When output is redirected (CI, logs): a plain line at most every few seconds and at the end, with the same figures.
/// Quiet: nothing. The command line installs it as the library's <see cref="Progress.Reporter"/>.
/// </summary>
internal sealed class ConsoleProgress(bool quiet) : IProgressReporter
{
    public IProgressTask Start(string description, long total)
    {
        if (quiet || total <= 0)
            return new NullTask();
        if (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
            return new SpectreTask(description, total);
        return new LineTask(description, total);
    }

    public static string FormatEta(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss") : t.ToString(@"mm\:ss");

    private sealed class NullTask : IProgressTask
    {
        public void Update(long done, string status = "") { }

        public void Dispose() { }
    }

    private sealed class LineTask(string description, long total) : IProgressTask
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private double _lastPrint = -10;
        private long _done;
        private string _status = "";

        public void Update(long done, string status = "")
        {
            _done = done;
            _status = status;
            double now = _clock.Elapsed.TotalSeconds;
            if (now - _lastPrint >= 5 || done >= total)
            {
                Print();
                _lastPrint = now;
            }
        }

        private void Print()
        {
            double el = _clock.Elapsed.TotalSeconds;
            double rate = _done / Math.Max(el, 1e-9);
            var eta = rate > 0 ? TimeSpan.FromSeconds((total - _done) / rate) : TimeSpan.Zero;
            var status = _status.Length > 0 ? $" {_status}" : "";
            Console.WriteLine(
                $"{description} {_done}/{total} ({100.0 * _done / total:F0}%){status} ETA {FormatEta(eta)}"
            );
        }

        public void Dispose()
        {
            if (_done < total && _done > 0)
                Print();
        }
    }

    private sealed class SpectreTask : IProgressTask
    {
        private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Task _runner;
        private readonly string _description;
        private ProgressTask? _task;
        private readonly ManualResetEventSlim _ready = new();

        public SpectreTask(string description, long total)
        {
            _description = description;
            _runner = AnsiConsole
                .Progress()
                .AutoClear(false)
                .Columns(
                    new TaskDescriptionColumn { Alignment = Justify.Left },
                    new ProgressBarColumn(),
                    new PercentageColumn(),
                    new RemainingTimeColumn(),
                    new SpinnerColumn()
                )
                .StartAsync(async ctx =>
                {
                    _task = ctx.AddTask(Markup.Escape(description), maxValue: total);
                    _ready.Set();
                    await _finished.Task;
                    ctx.Refresh();
                });
            _ready.Wait(TimeSpan.FromSeconds(5));
        }

        public void Update(long done, string status = "")
        {
            if (_task is null)
                return;
            _task.Value = done;
            if (status.Length > 0)
                _task.Description = Markup.Escape($"{_description} {status}");
        }

        public void Dispose()
        {
            _finished.TrySetResult();
            try
            {
                _runner.Wait(TimeSpan.FromSeconds(5));
            }
            catch
            { /* rendering only */
            }
        }
    }
}
