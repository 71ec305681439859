namespace Dbuild.Oci;

/// <summary>Media types of the OCI image spec and Docker's image manifest v2 schema 2.</summary>
/// <remarks>https://github.com/opencontainers/image-spec/blob/v1.1.0/media-types.md</remarks>
public static class MediaTypes
{
    /// <summary>OCI image manifest.</summary>
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    /// <summary>OCI image index.</summary>
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    /// <summary>OCI image config.</summary>
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    /// <summary>OCI uncompressed layer.</summary>
    public const string OciLayer = "application/vnd.oci.image.layer.v1.tar";
    /// <summary>OCI gzip layer.</summary>
    public const string OciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    /// <summary>OCI zstd layer.</summary>
    public const string OciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
    /// <summary>OCI non-distributable (foreign) uncompressed layer, deprecated but still read.</summary>
    public const string OciForeignLayer = "application/vnd.oci.image.layer.nondistributable.v1.tar";
    /// <summary>OCI non-distributable gzip layer.</summary>
    public const string OciForeignLayerGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    /// <summary>OCI non-distributable zstd layer.</summary>
    public const string OciForeignLayerZstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
    /// <summary>The empty JSON descriptor's media type (<c>{}</c>), used by artifacts.</summary>
    public const string OciEmpty = "application/vnd.oci.empty.v1+json";

    /// <summary>Docker image manifest v2 schema 2.</summary>
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    /// <summary>Docker manifest list (multi-platform).</summary>
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    /// <summary>Docker image config.</summary>
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    /// <summary>Docker gzip layer.</summary>
    public const string DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    /// <summary>Docker uncompressed layer (rare, but valid in schema 2).</summary>
    public const string DockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
    /// <summary>Docker zstd layer as written by BuildKit with Docker media types.</summary>
    public const string DockerLayerZstd = "application/vnd.docker.image.rootfs.diff.tar.zstd";
    /// <summary>Docker foreign layer (Windows base layers), never pushed.</summary>
    public const string DockerForeignLayer = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    /// <summary>Docker schema 1 signed manifest (read only, never produced).</summary>
    public const string DockerManifestSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";

    /// <summary>Every manifest and index type a client can parse, for <c>Accept</c> headers.</summary>
    public static IReadOnlyList<string> AllManifestTypes { get; } = [OciIndex, OciManifest, DockerManifestList, DockerManifest];

    /// <summary>True for single-image manifests (OCI or Docker).</summary>
    public static bool IsManifest(string? mediaType) => mediaType is OciManifest or DockerManifest;

    /// <summary>True for OCI indexes and Docker manifest lists.</summary>
    public static bool IsIndex(string? mediaType) => mediaType is OciIndex or DockerManifestList;

    /// <summary>True for any layer media type (compressed or not, foreign included).</summary>
    public static bool IsLayer(string? mediaType) => mediaType is not null &&
        (mediaType.StartsWith("application/vnd.oci.image.layer.", StringComparison.Ordinal) ||
         mediaType.StartsWith("application/vnd.docker.image.rootfs.", StringComparison.Ordinal));

    /// <summary>True for foreign / non-distributable layers, which pushes skip.</summary>
    public static bool IsForeignLayer(string? mediaType) => mediaType is DockerForeignLayer ||
        (mediaType?.StartsWith("application/vnd.oci.image.layer.nondistributable.", StringComparison.Ordinal) ?? false);

    /// <summary>The compression a layer media type names.</summary>
    public static LayerCompression CompressionOf(string? mediaType) => mediaType switch
    {
        null => LayerCompression.None,
        _ when mediaType.EndsWith("gzip", StringComparison.Ordinal) => LayerCompression.Gzip,
        _ when mediaType.EndsWith("zstd", StringComparison.Ordinal) => LayerCompression.Zstd,
        _ => LayerCompression.None,
    };

    /// <summary>The layer media type for a compression, in OCI or Docker flavour.</summary>
    public static string LayerType(LayerCompression compression, bool oci) => (compression, oci) switch
    {
        (LayerCompression.Gzip, true) => OciLayerGzip,
        (LayerCompression.Zstd, true) => OciLayerZstd,
        (LayerCompression.None, true) => OciLayer,
        (LayerCompression.Gzip, false) => DockerLayerGzip,
        (LayerCompression.Zstd, false) => DockerLayerZstd,
        _ => DockerLayer,
    };
}

/// <summary>How a layer blob is compressed.</summary>
public enum LayerCompression
{
    /// <summary>A plain tar.</summary>
    None,
    /// <summary>gzip (RFC 1952), possibly several members.</summary>
    Gzip,
    /// <summary>Zstandard frames.</summary>
    Zstd,
}
