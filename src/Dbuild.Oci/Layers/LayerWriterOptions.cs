namespace Dbuild.Oci.Layers;

/// <summary>How <see cref="LayerWriter"/> compresses and normalises a layer.</summary>
public sealed record LayerWriterOptions
{
    /// <summary>The default options: gzip at the codec's default level, mtimes kept.</summary>
    public static LayerWriterOptions Default { get; } = new();

    /// <summary>Compression of the blob.</summary>
    public LayerCompression Compression { get; init; } = LayerCompression.Gzip;

    /// <summary>Codec level (gzip 0-9, zstd 1-22); null = the codec's default (gzip 6, zstd 3).</summary>
    public int? CompressionLevel { get; init; }

    /// <summary>SOURCE_DATE_EPOCH: mtimes later than this are clamped to it, for reproducible layers.</summary>
    public DateTimeOffset? SourceDateEpoch { get; init; }

    /// <summary>
    /// How many threads compress: gzip compresses independent 1 MiB blocks of the tar as gzip members (valid gzip,
    /// RFC 1952 section 2.2), zstd runs that many workers. It changes only the speed: the compressed bytes depend on the
    /// tar, the codec and the level alone, whatever the value (and so whatever the machine's core count).
    /// </summary>
    public int Parallelism { get; init; } = 1;

    /// <summary>
    /// False for a tar that is only unpacked (streamed into a snapshot directory, never stored): its digests are not
    /// computed, and the result's <see cref="LayerWriteResult.Digest"/> and <see cref="LayerWriteResult.DiffId"/> are default.
    /// </summary>
    public bool ComputeDigests { get; init; } = true;
}
