using Dbuild.Oci;
using Dbuild.Registry.Client;

namespace Dbuild.Solver;

/// <summary>
/// Pushes a stored image to a registry. An image manifest goes with its config and layers; an index goes whole when the
/// store has every platform's content, or when the destination repository already has the manifests the store lacks
/// (pushing back where it was pulled from). Otherwise only one platform's image was pulled, and that image manifest is
/// pushed under the tag instead, as docker does: the registry never gets an index whose manifests it lacks.
/// Blobs are mounted from another repository of the same registry when one is known to have them.
/// </summary>
internal static class ImagePusher
{
    /// <summary>Pushes <paramref name="top"/> under <paramref name="tag"/>; <paramref name="remote"/> are blobs the store may lack because <paramref name="mountFrom"/>'s repository has them (an imported cache's layers).</summary>
    public static async Task<PushResult> PushAsync(ContentStore store, RegistryClient? client, Reference tag, Descriptor top,
        IReadOnlyDictionary<Digest, string>? mountFrom, CancellationToken cancellationToken, IReadOnlySet<Digest>? remote = null)
    {
        if (client is null) { throw new BuildException($"Pushing {tag} needs a registry client."); }
        StoredImage image = await StoredImage.ReadAsync(store, top, cancellationToken).ConfigureAwait(false);
        bool Present(StoredManifest m) => m.IsPresent || m.Manifest is not null && remote is not null && m.MissingBlobs.All(b => remote.Contains(b.Digest));
        if (image.Index is null || !image.TopPresent)
        {
            if (image.Manifests is not [{ } only] || !Present(only)) { throw Incomplete(tag, image); }
            return await PushManifestsAsync(store, client, tag, [only], null, mountFrom, cancellationToken).ConfigureAwait(false);
        }
        List<StoredManifest> stored = [.. image.Manifests.Where(m => m.Manifest is not null)];
        if (stored.All(Present) && await RegistryHasAsync(client, tag, image.Manifests.Where(m => m.Manifest is null), cancellationToken).ConfigureAwait(false))
        {
            return await PushManifestsAsync(store, client, tag, stored, top, mountFrom, cancellationToken).ConfigureAwait(false);
        }
        StoredManifest chosen = PickSinglePlatform(tag, image);
        PushResult pushed = await PushManifestsAsync(store, client, tag, [chosen], null, mountFrom, cancellationToken).ConfigureAwait(false);
        return pushed with { IndexNotPushed = top.Digest };
    }

    /// <summary>The blobs of a build's base images that a push to the same registry can mount from the base's repository.</summary>
    public static IReadOnlyDictionary<Digest, string> MountSources(IEnumerable<LayerRef>? layers, Reference tag)
    {
        ArgumentNullException.ThrowIfNull(tag);
        var sources = new Dictionary<Digest, string>();
        foreach (LayerRef layer in layers ?? [])
        {
            if (layer.Source is { } source && source.Registry == tag.Registry) { sources.TryAdd(layer.Blob.Digest, source.Repository); }
        }
        return sources;
    }

    /// <summary>
    /// moby's choice when an index is only partly stored and no platform is given: the one present image, or among
    /// several the one that suits this machine; anything else needs every platform pulled.
    /// </summary>
    private static StoredManifest PickSinglePlatform(Reference tag, StoredImage image)
    {
        IReadOnlyList<StoredManifest> usable = image.Usable;
        if (usable.Count == 1) { return usable[0]; }
        if (usable.Count > 1 && Platform.Current.PickBest(usable.Select(m => m.Descriptor)) is { } best) { return usable.First(m => m.Descriptor == best); }
        if (usable.Count == 0) { throw Incomplete(tag, image); }
        throw new BuildException($"Cannot push {tag}: the store has {string.Join(", ", usable.Select(m => m.Platform?.ToString() ?? "?"))} of index {image.Top.Digest} " +
            "but not every platform, and none of them runs here. Run 'dbuild pull --all-platforms' first to push the whole index.");
    }

    private static BuildException Incomplete(Reference tag, StoredImage image)
    {
        IReadOnlyList<(Digest Digest, string What)> missing = image.MissingContent();
        string what = missing.Count > 0 ? string.Join(", ", missing.Select(m => $"{m.What} {m.Digest}")) : $"no platform's image of {image.Top.Digest}";
        return new BuildException($"Cannot push {tag}: the local store lacks {what}. Pull the image again ('dbuild verify' checks the store).");
    }

    /// <summary>True when the destination repository already has every manifest the store lacks (HEAD by digest).</summary>
    private static async Task<bool> RegistryHasAsync(RegistryClient client, Reference tag, IEnumerable<StoredManifest> absent, CancellationToken cancellationToken)
    {
        foreach (StoredManifest entry in absent)
        {
            if (!await client.ManifestExistsAsync(tag.Registry, tag.Repository, entry.Descriptor.Digest.ToString(), cancellationToken).ConfigureAwait(false)) { return false; }
        }
        return true;
    }

    /// <summary>Pushes the manifests' blobs, then the manifests by digest, then <paramref name="index"/> (or the single manifest) under the tag.</summary>
    private static async Task<PushResult> PushManifestsAsync(ContentStore store, RegistryClient client, Reference tag, IReadOnlyList<StoredManifest> manifests,
        Descriptor? index, IReadOnlyDictionary<Digest, string>? mountFrom, CancellationToken cancellationToken)
    {
        var uploads = new List<ManifestUpload>();
        var blobs = new List<BlobUpload>();
        foreach (StoredManifest entry in manifests)
        {
            byte[] bytes = await store.ReadBlobBytesAsync(entry.Descriptor.Digest, cancellationToken: cancellationToken).ConfigureAwait(false);
            uploads.Add(new ManifestUpload(MediaTypes.IsManifest(entry.Descriptor.MediaType) ? entry.Descriptor.MediaType : RegistryClient.SniffMediaType(bytes), bytes));
            foreach (Descriptor blob in StoredManifest.BlobsOf(entry.Manifest!))
            {
                Digest digest = blob.Digest;
                string? from = mountFrom?.GetValueOrDefault(digest);
                blobs.Add(new BlobUpload(digest, blob.Size, () => store.Contains(digest) || from is null ? store.OpenBlob(digest)
                    : throw new BuildException($"Cannot push {tag}: layer {digest} is in {tag.Registry}/{from} only, and the registry refused to mount it from there."))
                { MountFrom = from });
            }
        }
        if (index is not null)
        {
            byte[] bytes = await store.ReadBlobBytesAsync(index.Digest, cancellationToken: cancellationToken).ConfigureAwait(false);
            uploads.Add(new ManifestUpload(RegistryClient.SniffMediaType(bytes), bytes));
        }
        Digest digestPushed = await client.PushImageAsync(tag.Registry, tag.Repository, blobs, uploads, [tag.Tag ?? Reference.DefaultTag], cancellationToken).ConfigureAwait(false);
        return new PushResult(digestPushed, uploads[^1].Content.Length);
    }
}
