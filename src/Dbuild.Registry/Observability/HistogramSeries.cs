namespace Dbuild.Registry.Observability;

/// <summary>
/// A fixed number of histograms sharing one set of buckets. Values are recorded in a raw integer unit (Stopwatch ticks,
/// bytes) and exported divided by <c>scale</c> (seconds, bytes). Observing is a short bucket scan and two interlocked
/// adds; counts are kept per bucket and made cumulative only when scraped.
/// </summary>
internal sealed class HistogramSeries
{
    private readonly long[] _rawBounds;
    private readonly string[] _labels;
    private readonly double _scale;
    private readonly long[] _buckets;
    private readonly long[] _sums;

    /// <param name="series">How many label combinations.</param>
    /// <param name="bounds">Upper bounds (inclusive) in the exported unit, ascending; +Inf is implied.</param>
    /// <param name="scale">Raw units per exported unit (Stopwatch.Frequency for seconds, 1 for bytes).</param>
    public HistogramSeries(int series, double[] bounds, double scale)
    {
        _scale = scale;
        _rawBounds = [.. bounds.Select(b => (long)Math.Round(b * scale))];
        _labels = [.. bounds.Select(PrometheusText.Format), "+Inf"];
        _buckets = new long[series * _labels.Length];
        _sums = new long[series];
    }

    public void Observe(int series, long raw)
    {
        long[] bounds = _rawBounds;
        int bucket = 0;
        while (bucket < bounds.Length && raw > bounds[bucket]) { bucket++; }
        Interlocked.Increment(ref _buckets[(series * _labels.Length) + bucket]);
        Interlocked.Add(ref _sums[series], raw);
    }

    /// <summary>How many observations <paramref name="series"/> holds.</summary>
    public long CountOf(int series)
    {
        long total = 0;
        for (int b = 0; b < _labels.Length; b++) { total += Volatile.Read(ref _buckets[(series * _labels.Length) + b]); }
        return total;
    }

    /// <summary>Writes the series' buckets, sum and count; nothing when it has no observations (as Prometheus clients do).</summary>
    public void Write(PrometheusText text, string name, int series, string labels)
    {
        long cumulative = 0;
        long[] counts = new long[_labels.Length];
        for (int b = 0; b < counts.Length; b++) { counts[b] = Volatile.Read(ref _buckets[(series * _labels.Length) + b]); }
        if (counts.Sum() == 0) { return; }
        for (int b = 0; b < counts.Length; b++)
        {
            cumulative += counts[b];
            text.Sample(name + "_bucket", labels, "le", _labels[b], cumulative);
        }
        text.Sample(name + "_sum", labels, Volatile.Read(ref _sums[series]) / _scale);
        text.Sample(name + "_count", labels, cumulative);
    }
}
