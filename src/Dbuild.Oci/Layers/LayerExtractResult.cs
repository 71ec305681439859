namespace Dbuild.Oci.Layers;

/// <summary>What <see cref="LayerExtractor"/> found while extracting.</summary>
public sealed record LayerExtractResult
{
    /// <summary>sha256 of the uncompressed tar.</summary>
    public required Digest DiffId { get; init; }

    /// <summary>The compression detected.</summary>
    public required LayerCompression Compression { get; init; }

    /// <summary>Entries processed (whiteouts included).</summary>
    public required int EntryCount { get; init; }

    /// <summary>Device nodes not created because <see cref="LayerExtractOptions.AllowDeviceNodes"/> was false (containerd skips them too).</summary>
    public int SkippedDeviceNodes { get; init; }
}
