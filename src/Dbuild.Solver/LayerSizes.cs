using System.Globalization;
using Dbuild.Oci;
using Dbuild.Oci.Layers;

namespace Dbuild.Solver;

/// <summary>
/// A layer's size as docker reports it (<c>docker images</c> SIZE, <c>inspect</c> Size, <c>history</c> SIZE): the bytes
/// its files hold once unpacked (regular files, hard-linked ones once, plus each symlink's target), which is what
/// dockerd's overlay2 driver measures of the unpacked layer. Computed once per layer by streaming its blob, then kept in
/// a small file per layer beside the content store (<c>STATE/layer-sizes/sha256/HEX</c>).
/// </summary>
public sealed class LayerSizes(ContentStore store)
{
    private readonly string _root = Path.Combine(Path.GetDirectoryName(store.Root)!, "layer-sizes");

    /// <summary>The unpacked size of a layer whose blob is in the store (computed and recorded when not yet known).</summary>
    public async Task<long> GetAsync(Digest layer, CancellationToken cancellationToken = default)
    {
        string path = Path.Combine(_root, layer.Algorithm, layer.Encoded);
        if (File.Exists(path) && long.TryParse(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false), NumberStyles.None, CultureInfo.InvariantCulture, out long known))
        {
            return known;
        }
        long size = await MeasureAsync(layer, cancellationToken).ConfigureAwait(false);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        await File.WriteAllTextAsync(temp, size.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
        File.Move(temp, path, overwrite: true);
        return size;
    }

    /// <summary>The unpacked size of an image: the sum over its layers (docker's image Size).</summary>
    public async Task<long> GetImageSizeAsync(ImageManifest manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        long total = 0;
        foreach (Descriptor layer in manifest.Layers) { total += await GetAsync(layer.Digest, cancellationToken).ConfigureAwait(false); }
        return total;
    }

    /// <summary>
    /// A blob that is not a (compressed) tar — an artifact's layer, or one a registry test made of random bytes — counts
    /// its stored size: docker could not unpack it at all, and one such layer must not fail a pull or an image listing.
    /// </summary>
    private async Task<long> MeasureAsync(Digest layer, CancellationToken cancellationToken)
    {
        try
        {
            return await MeasureTarAsync(layer, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException)
        {
            return store.GetSize(layer) ?? 0;
        }
    }

    private async Task<long> MeasureTarAsync(Digest layer, CancellationToken cancellationToken)
    {
        Stream blob = store.OpenBlob(layer);
        await using (blob.ConfigureAwait(false))
        {
            long size = 0;
            await foreach (LayerEntry entry in LayerReader.ReadEntriesAsync(blob, cancellationToken).ConfigureAwait(false))
            {
                size += entry.Type switch
                {
                    LayerEntryType.File => entry.Size,
                    LayerEntryType.Symlink => System.Text.Encoding.UTF8.GetByteCount(entry.LinkTarget ?? ""),
                    _ => 0,
                };
            }
            return size;
        }
    }
}
