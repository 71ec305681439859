using System.Text.Json.Serialization;

namespace Dbuild.Registry.Notifications;

/// <summary>
/// One event of registry:2's envelope (<c>application/vnd.docker.distribution.events.v1+json</c>,
/// <c>{"events":[…]}</c>), with distribution 2.8's field names; empty fields are left out as Go's <c>omitempty</c> does.
/// </summary>
internal sealed record RegistryEvent
{
    [JsonPropertyName("id")] public required string Id { get; init; }

    /// <summary>RFC 3339 with fractional seconds in UTC, as Go's <c>time.Time</c> writes it.</summary>
    [JsonPropertyName("timestamp")] public required string Timestamp { get; init; }

    [JsonPropertyName("action")] public required string Action { get; init; }

    [JsonPropertyName("target")] public required EventTarget Target { get; init; }

    [JsonPropertyName("request")] public required EventRequest Request { get; init; }

    [JsonPropertyName("actor")] public required EventActor Actor { get; init; }

    [JsonPropertyName("source")] public required EventSource Source { get; init; }
}

/// <summary>What the event is about: a blob or manifest (descriptor fields), its repository, URL and tag.</summary>
internal sealed record EventTarget
{
    [JsonPropertyName("mediaType"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? MediaType { get; init; }

    [JsonPropertyName("size"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public long Size { get; init; }

    [JsonPropertyName("digest"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Digest { get; init; }

    /// <summary>The same as <see cref="Size"/>; registry:2 still sends it for older receivers.</summary>
    [JsonPropertyName("length"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public long Length { get; init; }

    [JsonPropertyName("repository")] public required string Repository { get; init; }

    /// <summary>The source repository of a cross-repository mount.</summary>
    [JsonPropertyName("fromRepository"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? FromRepository { get; init; }

    [JsonPropertyName("url"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Url { get; init; }

    [JsonPropertyName("tag"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Tag { get; init; }
}

/// <summary>The request that caused the event.</summary>
internal sealed record EventRequest(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("addr")] string Addr,
    [property: JsonPropertyName("host")] string Host,
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("useragent")] string UserAgent);

/// <summary>Who made the request: the authenticated user, absent (<c>{}</c>) when anonymous.</summary>
internal sealed record EventActor([property: JsonPropertyName("name"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Name);

/// <summary>The registry instance that generated the event.</summary>
internal sealed record EventSource(
    [property: JsonPropertyName("addr")] string Addr,
    [property: JsonPropertyName("instanceID")] string InstanceId);

/// <summary>The envelope: registry:2 sends one event per request body.</summary>
internal sealed record EventEnvelope([property: JsonPropertyName("events")] IReadOnlyList<RegistryEvent> Events)
{
    public const string MediaType = "application/vnd.docker.distribution.events.v1+json";
}
