namespace Dbuild.Registry.Notifications;

/// <summary>
/// One entry of registry:2's <c>notifications.endpoints</c>: where events are POSTed and how failures are retried.
/// Defaults are registry:2's (<c>timeout</c> 1s, <c>threshold</c> 10, <c>backoff</c> 1s).
/// </summary>
public sealed record NotificationEndpoint
{
    /// <summary><c>name</c>: identifies the endpoint in logs, metrics and its storage queue; unique.</summary>
    public required string Name { get; init; }

    /// <summary><c>disabled</c>: configured but sent nothing (and queues nothing).</summary>
    public bool Disabled { get; init; }

    /// <summary><c>url</c>: an http:// or https:// URL the envelope is POSTed to.</summary>
    public required Uri Url { get; init; }

    /// <summary><c>headers</c>: added to every POST, each value of each list as its own header line.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Headers { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary><c>timeout</c>: how long one POST may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary><c>threshold</c>: consecutive failures retried at once; past it, each retry waits <see cref="Backoff"/>.</summary>
    public int Threshold { get; init; } = 10;

    /// <summary><c>backoff</c>: the wait between retries once <see cref="Threshold"/> failures happened in a row.</summary>
    public TimeSpan Backoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary><c>ignoredmediatypes</c> and <c>ignore.mediatypes</c>: events whose target has one of these are not sent.</summary>
    public IReadOnlyList<string> IgnoredMediaTypes { get; init; } = [];

    /// <summary><c>ignore.actions</c>: events with one of these actions (push, pull, delete, mount) are not sent.</summary>
    public IReadOnlyList<string> IgnoredActions { get; init; } = [];

    /// <summary>The config key of this entry (<c>notifications.endpoints[0]</c>), for errors.</summary>
    public string Key { get; init; } = "notifications.endpoints";

    /// <summary>True when an event with this action and target media type is to be sent here (registry:2's ignoredSink).</summary>
    public bool Wants(string action, string? mediaType) =>
        !IgnoredActions.Contains(action, StringComparer.Ordinal) && (mediaType is null || !IgnoredMediaTypes.Contains(mediaType, StringComparer.Ordinal));
}
