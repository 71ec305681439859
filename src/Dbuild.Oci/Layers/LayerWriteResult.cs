namespace Dbuild.Oci.Layers;

/// <summary>What writing a layer produced: the blob's digest and size, and the diffID of the tar inside it.</summary>
/// <remarks>https://github.com/opencontainers/image-spec/blob/v1.1.0/config.md#layer-diffid</remarks>
public sealed record LayerWriteResult
{
    /// <summary>sha256 of the blob as stored (the compressed bytes); the layer descriptor's digest.</summary>
    public required Digest Digest { get; init; }

    /// <summary>sha256 of the uncompressed tar; goes into the image config's <c>rootfs.diff_ids</c>.</summary>
    public required Digest DiffId { get; init; }

    /// <summary>Size of the blob in bytes (compressed).</summary>
    public required long Size { get; init; }

    /// <summary>Size of the uncompressed tar in bytes.</summary>
    public required long UncompressedSize { get; init; }

    /// <summary>The OCI layer media type matching the compression, e.g. <c>application/vnd.oci.image.layer.v1.tar+gzip</c>.</summary>
    public required string MediaType { get; init; }

    /// <summary>The compression used.</summary>
    public required LayerCompression Compression { get; init; }

    /// <summary>Number of tar entries written (whiteouts included).</summary>
    public required int EntryCount { get; init; }
}
