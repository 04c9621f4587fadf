namespace FaceDistill.Core;

/// <summary>Disposes every item it was given, in order, when it is disposed (a <c>using</c> over a set of
/// resources).</summary>
public sealed class Disposables(IEnumerable<IDisposable> items) : IDisposable
{
    private readonly List<IDisposable> _items = [.. items];

    public void Dispose()
    {
        foreach (var item in _items)
            item.Dispose();
        _items.Clear();
    }
}
