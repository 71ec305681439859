using Dbuild.Oci;
using Dbuild.Oci.Layers;

namespace Dbuild.Solver.Store;

/// <summary>A layer blob of the store read as its uncompressed tar (docker-archive's <c>layer.tar</c>), checked against its diffID.</summary>
internal static class LayerDiffs
{
    /// <summary>
    /// The uncompressed size of a stored layer, read through once (no memory grows with it) and checked against
    /// <paramref name="diffId"/> in the same pass.
    /// </summary>
    /// <exception cref="DigestMismatchException">The layer's tar is not the one its image's config names.</exception>
    public static async Task<long> MeasureAsync(ContentStore store, Descriptor layer, Digest diffId, CancellationToken cancellationToken)
    {
        if (MediaTypes.CompressionOf(layer.MediaType) == LayerCompression.None && layer.Digest == diffId) { return layer.Size; }
        Stream tar = await OpenAsync(store, layer, cancellationToken).ConfigureAwait(false);
        await using (tar.ConfigureAwait(false))
        {
            using var digesting = new DigestingReadStream(tar, diffId, leaveOpen: true);
            await digesting.DrainAsync(cancellationToken).ConfigureAwait(false);
            return digesting.BytesRead;
        }
    }

    /// <summary>The layer's tar, decompressed as its first bytes say (gzip, zstd or none).</summary>
    public static Task<Stream> OpenAsync(ContentStore store, Descriptor layer, CancellationToken cancellationToken) =>
        LayerReader.OpenDecompressedAsync(store.OpenBlob(layer.Digest), leaveOpen: false, cancellationToken);
}
