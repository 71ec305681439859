using Dbuild.Oci;
using Dbuild.Registry.Client;

using Dbuild.Solver.Cache;

using Dbuild.Solver.Export;

namespace Dbuild.Solver;

/// <summary>One image in the local store, as <c>dbuild images</c> lists it.</summary>
public sealed record LocalImage(string Name, Descriptor Manifest, Digest ImageId, DateTimeOffset? Created, long Size);

/// <summary>The local store's image operations behind <c>dbuild images/tag/rmi/push/pull/inspect/history/prune</c>.</summary>
public sealed class LocalImages(string stateRoot, RegistryClient? registry = null)
{
    private readonly ContentStore _store = ContentStore.ForStateRoot(stateRoot);

    /// <summary>The content store.</summary>
    public ContentStore Store => _store;

    /// <summary>Every tagged image, sorted by name.</summary>
    public async Task<IReadOnlyList<LocalImage>> ListAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<LocalImage>();
        foreach ((string name, Descriptor descriptor) in await _store.ListNamesAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!_store.Contains(descriptor.Digest)) { continue; }
            (ImageManifest manifest, ImageConfig config) = await ReadImageAsync(descriptor, cancellationToken).ConfigureAwait(false);
            result.Add(new LocalImage(name, descriptor, manifest.Config.Digest, config.Created, manifest.Layers.Sum(l => l.Size) + manifest.Config.Size));
        }
        return [.. result.OrderBy(i => i.Name, StringComparer.Ordinal)];
    }

    /// <summary>Finds an image by name (normalised like docker), image ID or manifest digest (a unique prefix is enough).</summary>
    public async Task<LocalImage> FindAsync(string nameOrId, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<LocalImage> all = await ListAsync(cancellationToken).ConfigureAwait(false);
        string? normalised = Reference.TryParse(nameOrId, out Reference? reference, out _) ? reference.ToString() : null;
        LocalImage? byName = all.FirstOrDefault(i => i.Name == normalised || i.Name == nameOrId);
        if (byName is not null) { return byName; }
        string hex = nameOrId.StartsWith("sha256:", StringComparison.Ordinal) ? nameOrId[7..] : nameOrId;
        var byId = all.Where(i => hex.Length >= 4 && (i.ImageId.Encoded.StartsWith(hex, StringComparison.Ordinal) || i.Manifest.Digest.Encoded.StartsWith(hex, StringComparison.Ordinal)))
            .DistinctBy(i => i.Manifest.Digest).ToList();
        return byId.Count == 1 ? byId[0] : throw new BuildException(byId.Count == 0
            ? $"No such image: {nameOrId}. 'dbuild images' lists the local store; 'dbuild pull {nameOrId}' fetches it."
            : $"{nameOrId} is ambiguous: it matches {byId.Count} images.");
    }

    /// <summary>The manifest and config of an image (the platform's image when the name is an index).</summary>
    public async Task<(ImageManifest Manifest, ImageConfig Config)> ReadImageAsync(Descriptor descriptor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        byte[] bytes = await _store.ReadBlobBytesAsync(descriptor.Digest, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (MediaTypes.IsIndex(RegistryClient.SniffMediaType(bytes)))
        {
            Descriptor child = Platform.Current.PickBest(ImageIndex.Parse(bytes).Manifests) ?? throw new BuildException($"{descriptor.Digest} has no image for {Platform.Current}.");
            bytes = await _store.ReadBlobBytesAsync(child.Digest, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        ImageManifest manifest = ImageManifest.Parse(bytes);
        ImageConfig config = ImageConfig.Parse(await _store.ReadBlobBytesAsync(manifest.Config.Digest, cancellationToken: cancellationToken).ConfigureAwait(false));
        return (manifest, config);
    }

    /// <summary>Gives an image another name.</summary>
    public async Task TagAsync(string source, Reference target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        LocalImage image = await FindAsync(source, cancellationToken).ConfigureAwait(false);
        await _store.TagAsync(target.ToString(), image.Manifest, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes a name; blobs stay until <see cref="PruneAsync"/>.</summary>
    public async Task<IReadOnlyList<string>> RemoveAsync(string nameOrId, CancellationToken cancellationToken = default)
    {
        LocalImage image = await FindAsync(nameOrId, cancellationToken).ConfigureAwait(false);
        bool byName = Reference.TryParse(nameOrId, out Reference? r, out _) && image.Name == r.ToString();
        var names = byName ? [image.Name] : (await ListAsync(cancellationToken).ConfigureAwait(false)).Where(i => i.Manifest.Digest == image.Manifest.Digest).Select(i => i.Name).ToList();
        foreach (string name in names) { await _store.UntagAsync(name, cancellationToken).ConfigureAwait(false); }
        return names;
    }

    /// <summary>Pushes a local image to its registry (or to <paramref name="target"/>).</summary>
    public async Task<Digest> PushAsync(string name, Reference? target = null, CancellationToken cancellationToken = default)
    {
        LocalImage image = await FindAsync(name, cancellationToken).ConfigureAwait(false);
        Reference destination = target ?? Reference.Parse(image.Name);
        return await ImageExporter.PushAsync(_store, registry, destination, image.Manifest, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Pulls an image for a platform into the store and tags it.</summary>
    public async Task<Digest> PullAsync(Reference reference, Platform platform, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (registry is null) { throw new BuildException("Pulling needs a registry client."); }
        BaseImage image = await ImageResolver.PullAsync(registry, _store, reference, platform, cancellationToken).ConfigureAwait(false);
        return image.ManifestDigest;
    }

    /// <summary>Deletes blobs no tagged image reaches, and the build cache; returns bytes freed.</summary>
    public async Task<long> PruneAsync(bool all, CancellationToken cancellationToken = default)
    {
        var keep = new HashSet<Digest>();
        foreach ((_, Descriptor descriptor) in await _store.ListNamesAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!_store.Contains(descriptor.Digest)) { continue; }
            keep.Add(descriptor.Digest);
            byte[] bytes = await _store.ReadBlobBytesAsync(descriptor.Digest, cancellationToken: cancellationToken).ConfigureAwait(false);
            var manifests = new List<byte[]> { bytes };
            if (MediaTypes.IsIndex(RegistryClient.SniffMediaType(bytes)))
            {
                manifests.Clear();
                foreach (Descriptor child in ImageIndex.Parse(bytes).Manifests.Where(m => _store.Contains(m.Digest)))
                {
                    keep.Add(child.Digest);
                    manifests.Add(await _store.ReadBlobBytesAsync(child.Digest, cancellationToken: cancellationToken).ConfigureAwait(false));
                }
            }
            foreach (byte[] m in manifests)
            {
                ImageManifest manifest = ImageManifest.Parse(m);
                keep.Add(manifest.Config.Digest);
                foreach (Descriptor layer in manifest.Layers) { keep.Add(layer.Digest); }
            }
        }
        var cache = new BuildCache(Path.GetDirectoryName(_store.Root)!, _store);
        if (all) { cache.Clear(); }
        else
        {
            // Layers the build cache still points at are kept unless --all.
            foreach (string file in Directory.EnumerateFiles(Path.Combine(Path.GetDirectoryName(_store.Root)!, "buildcache", "keys")))
            {
                try
                {
                    CacheRecord? record = System.Text.Json.JsonSerializer.Deserialize(await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false), SolverJson.Default.CacheRecord);
                    if (record?.Layer is { } l && Digest.TryParse(l.Digest, out Digest d)) { keep.Add(d); }
                }
                catch (System.Text.Json.JsonException) { File.Delete(file); }
            }
        }
        long freed = 0;
        foreach (Digest digest in _store.EnumerateBlobs().ToList())
        {
            if (keep.Contains(digest)) { continue; }
            freed += _store.GetSize(digest) ?? 0;
            _store.DeleteBlob(digest);
        }
        return freed;
    }
}
