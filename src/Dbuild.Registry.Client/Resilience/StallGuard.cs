namespace Dbuild.Registry.Client.Resilience;

/// <summary>
/// A cancellation that fires when a request makes no progress for <see cref="Timeout"/>: armed when the attempt starts,
/// re-armed by every chunk of upload body the network accepts and by every body read that returns bytes. Unlike a total
/// timeout it never cuts a transfer that keeps flowing.
/// </summary>
internal sealed class StallGuard : IDisposable
{
    private readonly CancellationTokenSource _timer;
    private readonly CancellationTokenSource _linked;

    public StallGuard(TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        Timeout = timeout;
        _timer = new CancellationTokenSource(System.Threading.Timeout.InfiniteTimeSpan, timeProvider);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _timer.Token);
        Touch();
    }

    public TimeSpan Timeout { get; }

    /// <summary>Cancelled by the caller or by a stall.</summary>
    public CancellationToken Token => _linked.Token;

    /// <summary>True once the stall timer fired (as opposed to the caller cancelling).</summary>
    public bool Fired => _timer.IsCancellationRequested;

    /// <summary>Set by <see cref="WatchedContent"/> while an upload body is being sent, to say which side stalled.</summary>
    public bool Sending { get; set; }

    /// <summary>Progress: the stall timer starts over.</summary>
    public void Touch()
    {
        if (Timeout != System.Threading.Timeout.InfiniteTimeSpan && !_timer.IsCancellationRequested) { _timer.CancelAfter(Timeout); }
    }

    /// <summary>The cause, in the one-line error's words.</summary>
    public string Describe() => Sending
        ? $"the registry took no data for {Seconds(Timeout)} (read timeout)"
        : $"no response for {Seconds(Timeout)} (read timeout)";

    internal static string Seconds(TimeSpan span) =>
        span.TotalSeconds >= 1 ? $"{span.TotalSeconds:0.###}s" : $"{span.TotalMilliseconds:0}ms";

    public void Dispose()
    {
        _linked.Dispose();
        _timer.Dispose();
    }
}
