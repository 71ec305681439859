using System.Text.Json.Serialization;

namespace Dbuild.Oci;

/// <summary>A reference to content: what it is, its digest and its size.</summary>
/// <remarks>https://github.com/opencontainers/image-spec/blob/v1.1.0/descriptor.md</remarks>
public sealed record Descriptor
{
    /// <summary>Creates a descriptor from the three required fields.</summary>
    [JsonConstructor]
    public Descriptor(string mediaType, Digest digest, long size)
    {
        if (size < 0) { throw new ArgumentOutOfRangeException(nameof(size), size, "A descriptor's size cannot be negative."); }
        (MediaType, Digest, Size) = (mediaType, digest, size);
    }

    /// <summary>The media type of the referenced content.</summary>
    [JsonPropertyName("mediaType")]
    public string MediaType { get; init; }

    /// <summary>The digest of the referenced content.</summary>
    [JsonPropertyName("digest")]
    public Digest Digest { get; init; }

    /// <summary>The size in bytes of the referenced content.</summary>
    [JsonPropertyName("size")]
    public long Size { get; init; }

    /// <summary>Alternative download locations (foreign layers).</summary>
    [JsonPropertyName("urls")]
    public IReadOnlyList<string>? Urls { get; init; }

    /// <summary>Arbitrary metadata, e.g. <c>org.opencontainers.image.ref.name</c> in a layout's index.</summary>
    [JsonPropertyName("annotations")]
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    /// <summary>The content itself, base64-encoded, for small embedded blobs.</summary>
    [JsonPropertyName("data")]
    public byte[]? Data { get; init; }

    /// <summary>The platform of a manifest listed in an index.</summary>
    [JsonPropertyName("platform")]
    public Platform? Platform { get; init; }

    /// <summary>The artifact type of an artifact manifest (referrers).</summary>
    [JsonPropertyName("artifactType")]
    public string? ArtifactType { get; init; }

    /// <summary>Formats as <c>mediaType digest (size bytes)</c> for messages.</summary>
    public override string ToString() => $"{MediaType} {Digest} ({Size} bytes)";

    /// <summary>Equality on media type, digest and size only: the identity of the content.</summary>
    public bool SameContent(Descriptor other) => other is not null && Digest == other.Digest && Size == other.Size && MediaType == other.MediaType;
}
