using System.Text.Json.Serialization;

namespace Dbuild.Oci;

/// <summary>An image manifest: a config and an ordered list of layers (OCI, or Docker schema 2 which has the same shape).</summary>
/// <remarks>https://github.com/opencontainers/image-spec/blob/v1.1.0/manifest.md</remarks>
public sealed record ImageManifest
{
    private readonly byte[]? _raw;

    /// <summary>Creates a new manifest.</summary>
    public ImageManifest(string mediaType, Descriptor config, IReadOnlyList<Descriptor> layers)
    {
        (MediaType, Config, Layers) = (mediaType, config, layers);
    }

    [JsonConstructor]
    internal ImageManifest() { Config = null!; Layers = []; }

    // `with` expressions copy through here: a changed manifest must not keep the parsed bytes.
    private ImageManifest(ImageManifest original)
    {
        SchemaVersion = original.SchemaVersion;
        MediaType = original.MediaType;
        ArtifactType = original.ArtifactType;
        Config = original.Config;
        Layers = original.Layers;
        Subject = original.Subject;
        Annotations = original.Annotations;
    }

    private ImageManifest(ImageManifest parsed, byte[] raw) : this(parsed) => _raw = raw;

    /// <summary>Always 2.</summary>
    [JsonPropertyName("schemaVersion")]
    public int SchemaVersion { get; init; } = 2;

    /// <summary>The manifest's media type (OCI or Docker schema 2). Optional in OCI, required by Docker.</summary>
    [JsonPropertyName("mediaType")]
    public string? MediaType { get; init; }

    /// <summary>The artifact type, for artifact manifests.</summary>
    [JsonPropertyName("artifactType")]
    public string? ArtifactType { get; init; }

    /// <summary>The image config (or an artifact's config blob).</summary>
    [JsonPropertyName("config")]
    public Descriptor Config { get; init; }

    /// <summary>Layers, base first.</summary>
    [JsonPropertyName("layers")]
    public IReadOnlyList<Descriptor> Layers { get; init; }

    /// <summary>The manifest this one refers to (referrers API).</summary>
    [JsonPropertyName("subject")]
    public Descriptor? Subject { get; init; }

    /// <summary>Arbitrary metadata.</summary>
    [JsonPropertyName("annotations")]
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    /// <summary>Parses a manifest, keeping its bytes so <see cref="ToJsonBytes"/> returns them unchanged.</summary>
    /// <exception cref="InvalidContentException">Malformed JSON, a wrong schema version, or missing config/layers.</exception>
    public static ImageManifest Parse(ReadOnlySpan<byte> json)
    {
        ImageManifest parsed = OciJson.Deserialize<ImageManifest>(json, "image manifest");
        if (parsed.SchemaVersion != 2) { throw new InvalidContentException($"Invalid image manifest: schemaVersion must be 2, got {parsed.SchemaVersion}."); }
        if (parsed.Config is null) { throw new InvalidContentException("Invalid image manifest: 'config' is missing."); }
        if (parsed.Layers is null) { throw new InvalidContentException("Invalid image manifest: 'layers' is missing."); }
        if (parsed.MediaType is not null && !MediaTypes.IsManifest(parsed.MediaType))
        {
            throw new InvalidContentException($"Invalid image manifest: mediaType '{parsed.MediaType}' is not an image manifest type.");
        }
        return new ImageManifest(parsed, json.ToArray());
    }

    /// <summary>The bytes this manifest was parsed from, or its canonical serialisation when it was built or changed.</summary>
    public byte[] ToJsonBytes() => _raw is not null ? (byte[])_raw.Clone() : OciJson.Serialize(this);

    /// <summary>The digest of <see cref="ToJsonBytes"/>.</summary>
    public Digest ComputeDigest() => Digest.Compute(_raw ?? OciJson.Serialize(this));

    /// <summary>A descriptor for this manifest (media type defaults to OCI when the document has none).</summary>
    public Descriptor ToDescriptor(Platform? platform = null)
    {
        byte[] bytes = _raw ?? OciJson.Serialize(this);
        return new Descriptor(MediaType ?? MediaTypes.OciManifest, Digest.Compute(bytes), bytes.Length) { Platform = platform, ArtifactType = ArtifactType };
    }
}
