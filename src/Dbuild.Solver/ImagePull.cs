using Dbuild.Oci;
using Dbuild.Registry.Client;

namespace Dbuild.Solver;

/// <summary>
/// Pulls images into the local store as containerd does: the name always points at what the registry serves for it
/// (the index, for a multi-platform image), with one platform's content (<c>--platform</c>) or every platform's
/// (<c>--all-platforms</c>). Blobs are stored before the manifest that lists them, manifests before the index, the name
/// last: a name never reaches a manifest whose blobs were not stored.
/// </summary>
internal static class ImagePull
{
    /// <summary>Pulls the image for <paramref name="platform"/> (an index narrowed to its best match); returns what the name points to.</summary>
    public static async Task<Descriptor> PullAsync(RegistryClient client, ContentStore store, Reference reference, Platform platform, CancellationToken cancellationToken)
    {
        ResolvedImage resolved = await client.ResolveImageAsync(reference.Registry, reference.Repository, reference.ManifestReference, platform, cancellationToken).ConfigureAwait(false);
        await StoreManifestAsync(client, store, reference, resolved.Manifest, cancellationToken).ConfigureAwait(false);
        ManifestResponse top = resolved.Index ?? resolved.Manifest;
        return await NameAsync(store, reference, top, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Pulls an index with every manifest it lists and their blobs (a lone manifest is pulled as it is).</summary>
    public static async Task<Descriptor> PullAllPlatformsAsync(RegistryClient client, ContentStore store, Reference reference, CancellationToken cancellationToken)
    {
        ManifestResponse top = await client.GetManifestAsync(reference.Registry, reference.Repository, reference.ManifestReference, cancellationToken).ConfigureAwait(false);
        if (!MediaTypes.IsIndex(top.MediaType))
        {
            await StoreManifestAsync(client, store, reference, top, cancellationToken).ConfigureAwait(false);
            return await NameAsync(store, reference, top, cancellationToken).ConfigureAwait(false);
        }
        foreach (Descriptor child in ImageIndex.Parse(top.Content.Span).Manifests)
        {
            if (MediaTypes.IsIndex(child.MediaType))
            {
                throw new BuildException($"{reference} lists an index ({child.Digest}) inside its index; pulling nested indexes is not supported.");
            }
            ManifestResponse manifest = await client.GetManifestAsync(reference.Registry, reference.Repository, child.Digest.ToString(), cancellationToken).ConfigureAwait(false);
            await StoreManifestAsync(client, store, reference, manifest, cancellationToken).ConfigureAwait(false);
        }
        return await NameAsync(store, reference, top, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stores a manifest's config and distributable layers (those not stored yet, four at a time), then the manifest.</summary>
    private static async Task StoreManifestAsync(RegistryClient client, ContentStore store, Reference reference, ManifestResponse response, CancellationToken cancellationToken)
    {
        ImageManifest manifest = ImageManifest.Parse(response.Content.Span);
        await Parallel.ForEachAsync(StoredManifest.BlobsOf(manifest).DistinctBy(b => b.Digest).Where(b => !store.Contains(b.Digest)),
            new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken }, async (blob, token) =>
            {
                Stream stream = await client.OpenBlobAsync(reference.Registry, reference.Repository, blob.Digest, blob.Size, token).ConfigureAwait(false);
                await using (stream.ConfigureAwait(false))
                {
                    await store.WriteBlobAsync(stream, blob.MediaType, blob.Digest, blob.Size, token).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
        await store.WriteBlobAsync(response.Content, response.MediaType, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stores the top manifest or index and points the name at it, remembering the repository it came from
    /// (<see cref="ContentStore.SourceAnnotation"/>) so a push to the same registry can mount its blobs from there.
    /// </summary>
    private static async Task<Descriptor> NameAsync(ContentStore store, Reference reference, ManifestResponse top, CancellationToken cancellationToken)
    {
        await store.WriteBlobAsync(top.Content, top.MediaType, cancellationToken).ConfigureAwait(false);
        var descriptor = new Descriptor(top.MediaType, top.Digest, top.Size)
        {
            Annotations = new Dictionary<string, string>(StringComparer.Ordinal) { [ContentStore.SourceAnnotation] = reference.Name },
        };
        await store.TagAsync(reference.ToString(), descriptor, cancellationToken).ConfigureAwait(false);
        return (await store.ResolveAsync(reference.ToString(), cancellationToken).ConfigureAwait(false))!;
    }
}
