using Dbuild.Oci;
using Dbuild.Registry.Client;

namespace Dbuild.Solver;

/// <summary>
/// A named image as the local store holds it. A name may point at an index of which only some platforms' content is
/// stored: <c>pull --platform</c> keeps the index and that platform's manifest, config and layers, as containerd does.
/// Every reader (images, inspect, history, push, verify, prune, FROM) goes through here, so a partial index is read the
/// same way everywhere: by what is present.
/// </summary>
public sealed class StoredImage
{
    private StoredImage(Descriptor top, bool topPresent, ImageIndex? index, IReadOnlyList<StoredManifest> manifests) =>
        (Top, TopPresent, Index, Manifests) = (top, topPresent, index, manifests);

    /// <summary>What the name points to: an image manifest or an index.</summary>
    public Descriptor Top { get; }

    /// <summary>The top manifest or index itself is in the store.</summary>
    public bool TopPresent { get; }

    /// <summary>The index, when the name points to one.</summary>
    public ImageIndex? Index { get; }

    /// <summary>The image manifest, or one entry per manifest the index lists (in index order), present or not.</summary>
    public IReadOnlyList<StoredManifest> Manifests { get; }

    /// <summary>Everything the name reaches is in the store (for an index: every platform's content).</summary>
    public bool IsComplete => TopPresent && Manifests.All(m => m.IsPresent);

    /// <summary>The manifests whose content is all present, attestations left out: the images that can be used.</summary>
    public IReadOnlyList<StoredManifest> Usable => [.. Manifests.Where(m => m.IsPresent && !m.IsAttestation)];

    /// <summary>
    /// The image the name stands for when no platform is given (images, inspect, history): the present image that suits
    /// this machine best, else the first present one (an image pulled for another platform).
    /// </summary>
    public StoredManifest? Default
    {
        get
        {
            IReadOnlyList<StoredManifest> usable = Usable;
            return Best(usable, Platform.Current) ?? (usable.Count > 0 ? usable[0] : null);
        }
    }

    /// <summary>
    /// The entry a build for <paramref name="platform"/> uses, present or not: the index's best match, or the lone
    /// manifest whatever its platform (BuildKit takes a single-platform image for any platform, with a warning).
    /// Null when the index has nothing for the platform.
    /// </summary>
    public StoredManifest? EntryFor(Platform platform) => Index is null ? (Manifests.Count > 0 ? Manifests[0] : null) : Best(Manifests, platform);

    /// <summary>
    /// Blobs the name needs that the store lacks, each with what it is: the top itself; the config or a layer of a
    /// platform whose manifest is stored; or, when an index has none of its manifests, those manifests. An index of
    /// which some platforms were never pulled is not missing anything.
    /// </summary>
    public IReadOnlyList<(Digest Digest, string What)> MissingContent()
    {
        if (!TopPresent) { return [(Top.Digest, MediaTypes.IsIndex(Top.MediaType) ? "index" : "manifest")]; }
        var missing = new List<(Digest, string)>();
        foreach (StoredManifest entry in Manifests.Where(m => m.Manifest is not null))
        {
            string of = entry.Platform is { } p ? $" of {p}" : "";
            foreach (Descriptor blob in entry.MissingBlobs)
            {
                int layer = entry.Manifest!.Layers.ToList().FindIndex(l => l.Digest == blob.Digest);
                missing.Add((blob.Digest, (layer < 0 ? "config" : $"layer {layer + 1}") + of));
            }
        }
        if (Index is not null && Manifests.All(m => m.Manifest is null))
        {
            missing.AddRange(Manifests.Select(m => (m.Descriptor.Digest, m.Platform is { } p ? $"manifest for {p}" : "manifest")));
        }
        return missing;
    }

    /// <summary>Every blob of the image that is in the store: the top, the stored manifests, their configs and layers.</summary>
    public IEnumerable<Digest> StoredBlobs(ContentStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (!TopPresent) { yield break; }
        yield return Top.Digest;
        foreach (StoredManifest entry in Manifests.Where(m => m.Manifest is not null))
        {
            if (Index is not null) { yield return entry.Descriptor.Digest; }
            foreach (Descriptor blob in StoredManifest.BlobsOf(entry.Manifest!).Where(b => store.Contains(b.Digest))) { yield return blob.Digest; }
        }
    }

    /// <summary>Reads what the store has of the image <paramref name="top"/> names; a missing blob is recorded, never thrown.</summary>
    /// <exception cref="DigestMismatchException">A stored manifest or index no longer matches its digest.</exception>
    public static async Task<StoredImage> ReadAsync(ContentStore store, Descriptor top, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(top);
        if (!store.Contains(top.Digest)) { return new StoredImage(top, false, null, []); }
        byte[] bytes = await store.ReadBlobBytesAsync(top.Digest, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!MediaTypes.IsIndex(RegistryClient.SniffMediaType(bytes))) { return new StoredImage(top, true, null, [Read(store, top, bytes)]); }
        ImageIndex index = ImageIndex.Parse(bytes);
        var manifests = new List<StoredManifest>();
        foreach (Descriptor child in index.Manifests)
        {
            // A nested index is listed but not followed: it never counts as present.
            bool readable = store.Contains(child.Digest) && !MediaTypes.IsIndex(child.MediaType);
            manifests.Add(readable
                ? Read(store, child, await store.ReadBlobBytesAsync(child.Digest, cancellationToken: cancellationToken).ConfigureAwait(false))
                : new StoredManifest(child, null, []));
        }
        return new StoredImage(top, true, index, manifests);
    }

    private static StoredManifest Read(ContentStore store, Descriptor descriptor, byte[] bytes)
    {
        ImageManifest manifest = ImageManifest.Parse(bytes);
        return new StoredManifest(descriptor, manifest, [.. StoredManifest.BlobsOf(manifest).Where(b => !store.Contains(b.Digest))]);
    }

    private static StoredManifest? Best(IReadOnlyList<StoredManifest> entries, Platform platform) =>
        platform.PickBest(entries.Select(e => e.Descriptor)) is { } best ? entries.First(e => e.Descriptor == best) : null;
}
