using Microsoft.Extensions.Options;

namespace Dbuild.Registry.Observability;

/// <summary>
/// Webhook deliveries with registry:2's names: <c>registry_notifications_events_total{type,endpoint}</c> (type
/// <c>Events</c> queued, <c>Successes</c> delivered, <c>Failures</c> answered with a non-2xx/3xx status, <c>Errors</c>
/// that got no answer) and <c>registry_notifications_pending{endpoint}</c>, the endpoint's queue in storage as this
/// replica last saw it. One preallocated slot per configured endpoint.
/// </summary>
internal sealed class NotificationMetrics
{
    private const int Events = 0, Successes = 1, Failures = 2, Errors = 3, Types = 4;
    private static readonly string[] TypeNames = ["Events", "Successes", "Failures", "Errors"];
    private readonly string[] _endpoints;
    private readonly CounterSeries _events;
    private readonly long[] _pending;

    public NotificationMetrics(IOptions<RegistryOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _endpoints = options.Value.Notifications.Active.Select(e => e.Name).ToArray();
        _events = new CounterSeries(_endpoints.Length * Types);
        _pending = new long[_endpoints.Length];
    }

    public int IndexOf(string endpoint) => Array.IndexOf(_endpoints, endpoint);

    public void Queued(int endpoint)
    {
        _events.Add(endpoint * Types + Events);
        Interlocked.Increment(ref _pending[endpoint]);
    }

    public void Delivered(int endpoint)
    {
        _events.Add(endpoint * Types + Successes);
        if (Interlocked.Decrement(ref _pending[endpoint]) < 0) { Interlocked.Exchange(ref _pending[endpoint], 0); }
    }

    /// <summary>One failed attempt: an answer outside 2xx/3xx (<paramref name="answered"/>) or none (refused, timed out).</summary>
    public void AttemptFailed(int endpoint, bool answered) => _events.Add(endpoint * Types + (answered ? Failures : Errors));

    /// <summary>The queue length read from storage.</summary>
    public void Pending(int endpoint, long count) => Volatile.Write(ref _pending[endpoint], count);

    public long Count(int endpoint, string type) => _events[endpoint * Types + Array.IndexOf(TypeNames, type)];

    public long PendingOf(int endpoint) => Volatile.Read(ref _pending[endpoint]);

    public void Write(PrometheusText text)
    {
        if (_endpoints.Length == 0) { return; }
        text.Header("registry_notifications_events_total", "counter", "The number of total events");
        for (int e = 0; e < _endpoints.Length; e++)
        {
            for (int t = 0; t < Types; t++)
            {
                text.Sample("registry_notifications_events_total", $"endpoint=\"{Escape(_endpoints[e])}\",type=\"{TypeNames[t]}\"", _events[e * Types + t]);
            }
        }
        text.Header("registry_notifications_pending", "gauge", "The gauge of pending events in queue");
        for (int e = 0; e < _endpoints.Length; e++) { text.Sample("registry_notifications_pending", $"endpoint=\"{Escape(_endpoints[e])}\"", PendingOf(e)); }
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
