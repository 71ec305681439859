namespace Dbuild.Oci.Layers;

/// <summary>How a layer tar is compressed inside its blob.</summary>
/// <remarks>https://github.com/opencontainers/image-spec/blob/v1.1.0/layer.md#gzip-media-types</remarks>
public enum LayerCompression
{
    /// <summary>gzip (RFC 1952), the default and most widely supported.</summary>
    Gzip,

    /// <summary>Zstandard (RFC 8878).</summary>
    Zstd,

    /// <summary>A plain tar.</summary>
    None,
}
