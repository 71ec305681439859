using System.Text.Json;
using System.Text.Json.Serialization;
using Dbuild.Oci;

namespace Dbuild.Solver.Cache;

/// <summary>
/// dbuild's exported build cache (docs/cache-format.md): an OCI image manifest whose <c>artifactType</c> is
/// <see cref="ArtifactType"/>, whose config (<see cref="ConfigMediaType"/>) is this index, and whose layers are the
/// result blobs the index names. The same index sits in an image config under <see cref="InlineKey"/> for type=inline.
/// </summary>
internal sealed record CacheIndex
{
    public const string ArtifactType = "application/vnd.dbuild.cache.v1+json";
    public const string ConfigMediaType = "application/vnd.dbuild.cache.config.v1+json";
    public const string InlineKey = "dev.dbuild.cache.v1";

    [JsonPropertyName("schemaVersion")]
    public int SchemaVersion { get; init; } = 1;

    /// <summary>Step results by cache key, sorted by key.</summary>
    [JsonPropertyName("records")]
    public IReadOnlyList<CacheIndexRecord> Records { get; init; } = [];

    /// <summary>Each step's key parts (by step id), so a build importing this cache can say why a step missed it.</summary>
    [JsonPropertyName("steps")]
    public IReadOnlyList<CacheIndexStep> Steps { get; init; } = [];

    /// <summary>Reads an index; null (never an exception) for bytes that are not one, or that name a malformed digest.</summary>
    public static CacheIndex? TryParse(ReadOnlySpan<byte> json, out string? error)
    {
        try
        {
            CacheIndex? index = JsonSerializer.Deserialize(json, SolverJson.Default.CacheIndex);
            if (index is null || index.SchemaVersion != 1) { error = $"schemaVersion {index?.SchemaVersion} is not 1"; return null; }
            foreach (CacheIndexRecord record in index.Records)
            {
                if (!Digest.TryParse(record.Key, out _)) { error = $"record key '{record.Key}' is not a digest"; return null; }
                if (record.Layer is { } l && (!Digest.TryParse(l.Digest, out _) || !Digest.TryParse(l.DiffId, out _) || l.Size < 0))
                {
                    error = $"record {record.Key} names a malformed layer"; return null;
                }
            }
            error = null;
            return index;
        }
        catch (JsonException ex)
        {
            error = ex.Message;
            return null;
        }
    }

    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, SolverJson.Default.CacheIndex);
}

/// <summary>One step result: its key, and the layer it added (null for a step that added none).</summary>
internal sealed record CacheIndexRecord(
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("layer")] CachedLayer? Layer,
    [property: JsonPropertyName("step")] string? Step);

/// <summary>A step's key parts as its exporting build computed them.</summary>
internal sealed record CacheIndexStep(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("components")] IReadOnlyList<KeyComponent> Components);
