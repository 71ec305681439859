using Dbuild.Oci;

namespace Dbuild.Solver.Store;

/// <summary>
/// <c>dbuild save --format oci</c>: an OCI image layout as a tar (<c>oci-layout</c>, <c>index.json</c>, <c>blobs/</c>),
/// what skopeo's <c>oci-archive:</c> and <c>dbuild load</c> read. Each name is an index entry carrying containerd's
/// <c>io.containerd.image.name</c> (the full name) and <c>org.opencontainers.image.ref.name</c> (its tag); an image
/// saved by ID is an entry without names. An index is written whole when every platform is stored, else the one
/// platform image the store holds. Blobs are copied as stored (compressed), each once.
/// </summary>
public sealed class OciArchiveWriter(LocalImages images)
{
    /// <summary>Writes <paramref name="items"/> to <paramref name="output"/> (left open).</summary>
    public async Task WriteAsync(IReadOnlyList<SaveItem> items, Stream output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        ContentStore store = images.Store;
        var tar = new ArchiveTarWriter(output);
        var entries = new List<Descriptor>();
        var blobs = new List<Digest>();
        var documents = new Dictionary<Digest, byte[]>();
        foreach (SaveItem item in items)
        {
            StoredImage stored = await StoredImage.ReadAsync(store, item.Image.Manifest, cancellationToken).ConfigureAwait(false);
            Descriptor top;
            if (stored.IsComplete && stored.Index is not null)
            {
                var children = new List<Descriptor>();
                foreach (StoredManifest child in stored.Manifests)
                {
                    children.Add(AddImage(child.Descriptor, child.Manifest!, blobs, documents));
                }
                byte[] bytes = new ImageIndex(MediaTypes.OciIndex, children).ToJsonBytes();
                top = new Descriptor(MediaTypes.OciIndex, Digest.Compute(bytes), bytes.Length);
                documents[top.Digest] = bytes;
            }
            else
            {
                StoredManifest single = stored.Default ?? throw new BuildException($"{item.Image.ImageId} has no platform image stored in full.");
                top = AddImage(single.Descriptor, single.Manifest!, blobs, documents) with { Platform = null };
            }
            if (item.Names.Count == 0) { entries.Add(top); }
            foreach (string name in item.Names)
            {
                Reference reference = Reference.Parse(name);
                entries.Add(top with
                {
                    Annotations = new Dictionary<string, string>(StringComparer.Ordinal)
                    {
                        [ContentStore.ImageNameAnnotation] = reference.ToString(),
                        [ContentStore.RefNameAnnotation] = reference.Tag ?? Reference.DefaultTag,
                    },
                });
            }
        }
        await tar.WriteFileAsync(ContentStore.LayoutFileName, """{"imageLayoutVersion":"1.0.0"}"""u8.ToArray(), cancellationToken).ConfigureAwait(false);
        await tar.WriteFileAsync(ContentStore.IndexFileName, new ImageIndex(MediaTypes.OciIndex, entries).ToJsonBytes(), cancellationToken).ConfigureAwait(false);
        await tar.WriteDirectoryAsync("blobs", cancellationToken).ConfigureAwait(false);
        await tar.WriteDirectoryAsync("blobs/sha256", cancellationToken).ConfigureAwait(false);
        foreach ((Digest digest, byte[] bytes) in documents)
        {
            await tar.WriteFileAsync($"blobs/{digest.Algorithm}/{digest.Encoded}", bytes, cancellationToken).ConfigureAwait(false);
        }
        foreach (Digest digest in blobs.Distinct().Where(d => !documents.ContainsKey(d)))
        {
            Stream blob = store.OpenBlob(digest, verify: true);
            await using (blob.ConfigureAwait(false))
            {
                long size = store.GetSize(digest) ?? 0;
                await tar.WriteFileAsync($"blobs/{digest.Algorithm}/{digest.Encoded}", size, blob, cancellationToken).ConfigureAwait(false);
            }
        }
        await tar.FinishAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One platform image: its config and layers as they are stored, and its manifest as stored when it is OCI, else
    /// rewritten with OCI media types (skopeo's <c>oci-archive:</c> sees only OCI manifests; the config, so the image ID, is unchanged).
    /// </summary>
    private static Descriptor AddImage(Descriptor descriptor, ImageManifest manifest, List<Digest> blobs, Dictionary<Digest, byte[]> documents)
    {
        blobs.Add(manifest.Config.Digest);
        blobs.AddRange(manifest.Layers.Select(l => l.Digest));
        if (descriptor.MediaType == MediaTypes.OciManifest)
        {
            blobs.Add(descriptor.Digest);
            return descriptor with { Annotations = null };
        }
        var converted = new ImageManifest(MediaTypes.OciManifest, manifest.Config with { MediaType = MediaTypes.OciConfig },
            [.. manifest.Layers.Select(l => l with { MediaType = MediaTypes.IsForeignLayer(l.MediaType) ? l.MediaType : MediaTypes.LayerType(MediaTypes.CompressionOf(l.MediaType), oci: true) })]);
        byte[] bytes = converted.ToJsonBytes();
        var result = new Descriptor(MediaTypes.OciManifest, Digest.Compute(bytes), bytes.Length) { Platform = descriptor.Platform };
        documents[result.Digest] = bytes;
        return result;
    }
}
