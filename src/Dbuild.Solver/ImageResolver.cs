using System.Collections.Concurrent;
using Dbuild.Oci;
using Dbuild.Registry.Client;

namespace Dbuild.Solver;

/// <summary>
/// Resolves FROM images: from the local store by name unless --pull, otherwise from the registry (platform picked
/// from an index), with manifest, config and layers written into the store and the name tagged there.
/// </summary>
internal sealed class ImageResolver(ContentStore store, RegistryClient? client, Platform platform)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<BaseImage>>> _resolved = new(StringComparer.Ordinal);

    public Task<BaseImage> ResolveAsync(Reference reference, bool pull, CancellationToken cancellationToken) =>
        _resolved.GetOrAdd(reference + "|" + pull, _ => new Lazy<Task<BaseImage>>(() => ResolveCoreAsync(reference, pull, cancellationToken))).Value;

    private async Task<BaseImage> ResolveCoreAsync(Reference reference, bool pull, CancellationToken cancellationToken)
    {
        if (!pull && await TryLocalAsync(reference, cancellationToken).ConfigureAwait(false) is { } local) { return local; }
        if (client is null)
        {
            throw new BuildException($"{reference} is not in the local store and no registry client is configured; run 'dbuild pull {reference}'.");
        }
        return await PullAsync(client, store, reference, platform, cancellationToken).ConfigureAwait(false);
    }

    private async Task<BaseImage?> TryLocalAsync(Reference reference, CancellationToken cancellationToken)
    {
        Descriptor? top = await store.ResolveAsync(reference.ToString(), cancellationToken).ConfigureAwait(false);
        if (top is null && reference.Digest is { } digest && store.Contains(digest)) { top = new Descriptor(MediaTypes.OciManifest, digest, store.GetSize(digest) ?? 0); }
        if (top is null) { return null; }
        return await LoadAsync(store, reference, top, platform, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads an image (manifest or index) already in the store; null when a blob is missing.</summary>
    public static async Task<BaseImage?> LoadAsync(ContentStore store, Reference reference, Descriptor top, Platform platform, CancellationToken cancellationToken)
    {
        byte[] bytes = await store.ReadBlobBytesAsync(top.Digest, cancellationToken: cancellationToken).ConfigureAwait(false);
        Digest manifestDigest = top.Digest;
        string mediaType = RegistryClient.SniffMediaType(bytes);
        if (MediaTypes.IsIndex(mediaType))
        {
            ImageIndex index = ImageIndex.Parse(bytes);
            Descriptor picked = platform.PickBest(index.Manifests) ?? throw new BuildException($"{reference} has no image for {platform} in the local store.");
            if (!store.Contains(picked.Digest)) { return null; }
            bytes = await store.ReadBlobBytesAsync(picked.Digest, cancellationToken: cancellationToken).ConfigureAwait(false);
            manifestDigest = picked.Digest;
        }
        ImageManifest manifest = ImageManifest.Parse(bytes);
        if (!store.Contains(manifest.Config.Digest) || manifest.Layers.Any(l => !store.Contains(l.Digest))) { return null; }
        ImageConfig config = ImageConfig.Parse(await store.ReadBlobBytesAsync(manifest.Config.Digest, cancellationToken: cancellationToken).ConfigureAwait(false));
        if (config.RootFs.DiffIds.Count != manifest.Layers.Count)
        {
            throw new BuildException($"{reference}: the config lists {config.RootFs.DiffIds.Count} diff_ids for {manifest.Layers.Count} layers.");
        }
        var layers = manifest.Layers.Select((l, i) => new LayerRef(new Descriptor(l.MediaType, l.Digest, l.Size), config.RootFs.DiffIds[i]) { Source = reference }).ToList();
        return new BaseImage(reference, manifestDigest, config, layers);
    }

    /// <summary>Pulls an image into the store: manifest (and index), config, layers in parallel; then tags the name.</summary>
    public static async Task<BaseImage> PullAsync(RegistryClient client, ContentStore store, Reference reference, Platform platform, CancellationToken cancellationToken)
    {
        ResolvedImage resolved = await client.ResolveImageAsync(reference.Registry, reference.Repository, reference.ManifestReference, platform, cancellationToken).ConfigureAwait(false);
        ImageManifest manifest = ImageManifest.Parse(resolved.Manifest.Content.Span);
        var blobs = new List<Descriptor> { manifest.Config };
        blobs.AddRange(manifest.Layers.Where(l => !MediaTypes.IsForeignLayer(l.MediaType)));
        await Parallel.ForEachAsync(blobs.Where(b => !store.Contains(b.Digest)),
            new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken }, async (blob, token) =>
            {
                Stream stream = await client.OpenBlobAsync(reference.Registry, reference.Repository, blob.Digest, blob.Size, token).ConfigureAwait(false);
                await using (stream.ConfigureAwait(false))
                {
                    await store.WriteBlobAsync(stream, blob.MediaType, blob.Digest, blob.Size, token).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
        await store.WriteBlobAsync(resolved.Manifest.Content, resolved.Manifest.MediaType, cancellationToken).ConfigureAwait(false);
        Descriptor top = new(resolved.Manifest.MediaType, resolved.Manifest.Digest, resolved.Manifest.Size);
        if (resolved.Index is { } index)
        {
            await store.WriteBlobAsync(index.Content, index.MediaType, cancellationToken).ConfigureAwait(false);
            top = new Descriptor(index.MediaType, index.Digest, index.Size);
        }
        await store.TagAsync(reference.ToString(), top, cancellationToken).ConfigureAwait(false);
        return await LoadAsync(store, reference, top, platform, cancellationToken).ConfigureAwait(false)
            ?? throw new BuildException($"Pulled {reference}, but its blobs are not all in the store.");
    }
}
