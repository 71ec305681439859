namespace Dbuild.Registry.Client;

/// <summary>Tuning for <see cref="RegistryClient"/>; every property has a working default.</summary>
public sealed record RegistryClientOptions
{
    /// <summary>
    /// How each host is reached (plain HTTP, insecure TLS, mirrors; certs.d). Pass the same instance to the
    /// <see cref="RegistryHttpHandler"/> under the client's <see cref="HttpClient"/> so TLS settings and what the
    /// handler learns agree. Defaults to docker's defaults: loopback insecure, everything else verified TLS.
    /// </summary>
    public RegistryHosts Hosts { get; init; } = new();

    /// <summary>Blobs uploaded at once by <see cref="RegistryClient.PushImageAsync"/>. Defaults to 4.</summary>
    public int MaxParallelUploads { get; init; } = 4;

    /// <summary>When set, blobs larger than this go up in PATCH chunks of this size; otherwise in one PUT.</summary>
    public long? ChunkSize { get; init; }

    /// <summary>Attempts per request or blob for transient failures (5xx, 429, connection resets). Defaults to 4.</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>First retry delay, doubled per attempt with jitter. Defaults to 200 ms.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// How long a request may go without progress: no response headers this long after the last byte sent, or no body
    /// bytes this long while reading, fails the attempt (and a blob read resumes). A body that keeps flowing is never cut.
    /// Defaults to 60 s; <see cref="Timeout.InfiniteTimeSpan"/> turns it off.
    /// </summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The longest <c>Retry-After</c> (on 429 and 503) waited for before retrying; longer ones are cut to this. Defaults to 60 s.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Manifests are buffered to verify them; larger ones are refused. Defaults to 4 MiB.</summary>
    public int MaxManifestBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Sent as <c>User-Agent</c>.</summary>
    public string UserAgent { get; init; } = "dbuild/0.1";

    /// <summary>Clock for token expiry and retry delays.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
