namespace Dbuild.Registry.Observability;

/// <summary>
/// A fixed number of counters, one per label combination the caller indexes. Adding is one interlocked instruction: no
/// lock, no allocation, no lookup by label text on the request path.
/// </summary>
internal sealed class CounterSeries(int series)
{
    private readonly long[] _values = new long[series];

    public int Count => _values.Length;

    public void Add(int series, long value = 1) => Interlocked.Add(ref _values[series], value);

    public long this[int series] => Volatile.Read(ref _values[series]);
}
