using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dbuild.Registry.Storage;

/// <summary>
/// An upload as stored in <c>_uploads/ID/state</c>: bytes received, the running SHA-256 state (OpenSSL's SHA256_CTX,
/// base64) and the driver's staged parts in order. Rewritten, conditionally on its ETag, after every chunk.
/// </summary>
internal sealed record UploadState(
    [property: JsonPropertyName("offset")] long Offset,
    [property: JsonPropertyName("sha256")] byte[] Sha256,
    [property: JsonPropertyName("parts")] IReadOnlyList<StagedPart> Parts,
    [property: JsonPropertyName("startedat")] DateTimeOffset StartedAt)
{
    /// <summary>When the last chunk was recorded (absent until the first one); GC measures an upload's idle time from it.</summary>
    [JsonPropertyName("updatedat")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? UpdatedAt { get; init; }

    public DateTimeOffset LastActivity => UpdatedAt is { } updated && updated > StartedAt ? updated : StartedAt;

    public static UploadState Start(DateTimeOffset now) => new(0, new ResumableSha256().Export(), [], now);

    public ResumableSha256 ResumeHash() => ResumableSha256.Import(Sha256);

    public UploadState Append(StagedPart part, ResumableSha256 hash, DateTimeOffset now) =>
        this with { Offset = Offset + part.Length, Sha256 = hash.Export(), Parts = [.. Parts, part], UpdatedAt = now };

    public byte[] Serialize() => JsonSerializer.SerializeToUtf8Bytes(this, UploadStateJson.Default.UploadState);

    /// <summary>Throws <see cref="InvalidDataException"/> naming the upload when the stored state is unreadable.</summary>
    public static UploadState Deserialize(byte[] content, string id)
    {
        UploadState? state;
        try { state = JsonSerializer.Deserialize(content, UploadStateJson.Default.UploadState); }
        catch (JsonException ex) { throw new InvalidDataException($"Upload {id}: its stored state is not valid JSON ({ex.Message}).", ex); }
        if (state is null || state.Sha256 is null || state.Parts is null || state.Offset != state.Parts.Sum(p => p.Length))
        {
            throw new InvalidDataException($"Upload {id}: its stored state is inconsistent.");
        }
        return state;
    }
}

[JsonSerializable(typeof(UploadState))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class UploadStateJson : JsonSerializerContext;
