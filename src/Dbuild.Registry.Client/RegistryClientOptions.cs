namespace Dbuild.Registry.Client;

/// <summary>Tuning for <see cref="RegistryClient"/>; every property has a working default.</summary>
public sealed record RegistryClientOptions
{
    /// <summary>Registries reached over plain HTTP besides loopback hosts (which always are), like dockerd's <c>insecure-registries</c>.</summary>
    public IReadOnlyList<string> PlainHttpRegistries { get; init; } = [];

    /// <summary>Blobs uploaded at once by <see cref="RegistryClient.PushImageAsync"/>. Defaults to 4.</summary>
    public int MaxParallelUploads { get; init; } = 4;

    /// <summary>When set, blobs larger than this go up in PATCH chunks of this size; otherwise in one PUT.</summary>
    public long? ChunkSize { get; init; }

    /// <summary>Attempts per request or blob for transient failures (5xx, 429, connection resets). Defaults to 4.</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>First retry delay, doubled per attempt. Defaults to 200 ms.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Manifests are buffered to verify them; larger ones are refused. Defaults to 4 MiB.</summary>
    public int MaxManifestBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Sent as <c>User-Agent</c>.</summary>
    public string UserAgent { get; init; } = "dbuild/0.1";

    /// <summary>Clock for token expiry and retry delays.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
