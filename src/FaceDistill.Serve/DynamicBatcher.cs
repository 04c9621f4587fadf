using System.Threading.Channels;

namespace FaceDistill.Serve;

/// <summary>
/// Dynamic batching in front of a network: requests wait in a bounded queue; one worker thread takes the first
/// waiting request, then keeps taking more until it holds <c>maxBatch</c> or <c>maxWait</c> has passed since the
/// first, and runs them as one batch. A full queue refuses at once (<see cref="TryEnqueue"/> is false: the caller
/// answers 503), so memory stays bounded by the queue. A failing batch fails each of its requests, not the worker.
/// </summary>
public sealed class DynamicBatcher<TIn, TOut> : IDisposable
{
    private sealed record Item(TIn Input, TaskCompletionSource<TOut> Done);

    private readonly Channel<Item> _queue;
    private readonly Func<IReadOnlyList<TIn>, IReadOnlyList<TOut>> _run;
    private readonly int _maxBatch;
    private readonly TimeSpan _maxWait;
    private readonly Thread _worker;
    private int _depth;

    /// <summary>Called after every batch with its size (for metrics).</summary>
    public Action<int>? OnBatch { get; init; }

    /// <summary>Requests waiting now.</summary>
    public int Depth => Volatile.Read(ref _depth);

    /// <summary>Requests waiting or being run now.</summary>
    public int Pending => Volatile.Read(ref _depth) + Volatile.Read(ref _running);

    private int _running;

    public DynamicBatcher(
        Func<IReadOnlyList<TIn>, IReadOnlyList<TOut>> run,
        int maxBatch,
        TimeSpan maxWait,
        int capacity
    )
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _run = run;
        _maxBatch = maxBatch;
        _maxWait = maxWait;
        _queue = Channel.CreateBounded<Item>(
            new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait }
        );
        _worker = new Thread(Work) { IsBackground = true, Name = "facedistill-batcher" };
        _worker.Start();
    }

    /// <summary>Queues a request; false when the queue is full or closed.</summary>
    public bool TryEnqueue(TIn input, out Task<TOut> result)
    {
        var done = new TaskCompletionSource<TOut>(TaskCreationOptions.RunContinuationsAsynchronously);
        result = done.Task;
        Interlocked.Increment(ref _depth);
        if (_queue.Writer.TryWrite(new Item(input, done)))
            return true;
        Interlocked.Decrement(ref _depth);
        return false;
    }

    private void Work()
    {
        var reader = _queue.Reader;
        var batch = new List<Item>(_maxBatch);
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            batch.Clear();
            var deadline = DateTime.UtcNow + _maxWait;
            while (batch.Count < _maxBatch)
            {
                if (reader.TryRead(out var item))
                {
                    batch.Add(item);
                    continue;
                }
                var left = deadline - DateTime.UtcNow;
                if (batch.Count > 0 && left <= TimeSpan.Zero)
                    break;
                using var wait = new CancellationTokenSource(left > TimeSpan.Zero ? left : TimeSpan.Zero);
                try
                {
                    if (!reader.WaitToReadAsync(wait.Token).AsTask().GetAwaiter().GetResult())
                        break;
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            if (batch.Count == 0)
                continue;
            Volatile.Write(ref _running, batch.Count);
            Interlocked.Add(ref _depth, -batch.Count);
            Run(batch);
            Volatile.Write(ref _running, 0);
        }
    }

    private void Run(List<Item> batch)
    {
        try
        {
            var outputs = _run(batch.Select(i => i.Input).ToList());
            if (outputs.Count != batch.Count)
                throw new InvalidOperationException($"batch of {batch.Count} gave {outputs.Count} results");
            for (int i = 0; i < batch.Count; i++)
                batch[i].Done.TrySetResult(outputs[i]);
        }
        catch (Exception e)
        {
            foreach (var item in batch)
                item.Done.TrySetException(e);
        }
        OnBatch?.Invoke(batch.Count);
    }

    /// <summary>Stops taking requests; the worker finishes the ones already queued, then exits.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _worker.Join();
    }
}
