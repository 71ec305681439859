using System.Text.Json.Serialization;

namespace Dbuild.Oci;

/// <summary>An image index (OCI) or manifest list (Docker): one manifest per platform.</summary>
/// <remarks>https://github.com/opencontainers/image-spec/blob/v1.1.0/image-index.md</remarks>
public sealed record ImageIndex
{
    private readonly byte[]? _raw;

    /// <summary>Creates a new index.</summary>
    public ImageIndex(string mediaType, IReadOnlyList<Descriptor> manifests) => (MediaType, Manifests) = (mediaType, manifests);

    [JsonConstructor]
    internal ImageIndex() => Manifests = [];

    private ImageIndex(ImageIndex original)
    {
        SchemaVersion = original.SchemaVersion;
        MediaType = original.MediaType;
        ArtifactType = original.ArtifactType;
        Manifests = original.Manifests;
        Subject = original.Subject;
        Annotations = original.Annotations;
    }

    private ImageIndex(ImageIndex parsed, byte[] raw) : this(parsed) => _raw = raw;

    /// <summary>Always 2.</summary>
    [JsonPropertyName("schemaVersion")]
    public int SchemaVersion { get; init; } = 2;

    /// <summary>The index's media type (OCI index or Docker manifest list).</summary>
    [JsonPropertyName("mediaType")]
    public string? MediaType { get; init; }

    /// <summary>The artifact type, for artifact indexes.</summary>
    [JsonPropertyName("artifactType")]
    public string? ArtifactType { get; init; }

    /// <summary>The listed manifests, usually with a platform each.</summary>
    [JsonPropertyName("manifests")]
    public IReadOnlyList<Descriptor> Manifests { get; init; }

    /// <summary>The manifest this index refers to (referrers API).</summary>
    [JsonPropertyName("subject")]
    public Descriptor? Subject { get; init; }

    /// <summary>Arbitrary metadata.</summary>
    [JsonPropertyName("annotations")]
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    /// <summary>Parses an index, keeping its bytes so <see cref="ToJsonBytes"/> returns them unchanged.</summary>
    /// <exception cref="InvalidContentException">Malformed JSON, a wrong schema version, or no manifests array.</exception>
    public static ImageIndex Parse(ReadOnlySpan<byte> json)
    {
        ImageIndex parsed = OciJson.Deserialize<ImageIndex>(json, "image index");
        if (parsed.SchemaVersion != 2) { throw new InvalidContentException($"Invalid image index: schemaVersion must be 2, got {parsed.SchemaVersion}."); }
        if (parsed.Manifests is null) { throw new InvalidContentException("Invalid image index: 'manifests' is missing."); }
        if (parsed.MediaType is not null && !MediaTypes.IsIndex(parsed.MediaType))
        {
            throw new InvalidContentException($"Invalid image index: mediaType '{parsed.MediaType}' is not an index type.");
        }
        return new ImageIndex(parsed, json.ToArray());
    }

    /// <summary>The bytes this index was parsed from, or its canonical serialisation when it was built or changed.</summary>
    public byte[] ToJsonBytes() => _raw is not null ? (byte[])_raw.Clone() : OciJson.Serialize(this);

    /// <summary>A descriptor for this index.</summary>
    public Descriptor ToDescriptor()
    {
        byte[] bytes = _raw ?? OciJson.Serialize(this);
        return new Descriptor(MediaType ?? MediaTypes.OciIndex, Digest.Compute(bytes), bytes.Length) { ArtifactType = ArtifactType };
    }
}
