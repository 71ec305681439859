using Dbuild.Oci;
using Dbuild.Oci.Locking;
using Dbuild.Registry.Client;

using Dbuild.Solver.Cache;
using Dbuild.Solver.Store;


namespace Dbuild.Solver;

/// <summary>The local store's image operations behind <c>dbuild images/tag/rmi/push/pull/inspect/history/prune</c>.</summary>
public sealed class LocalImages(string stateRoot, RegistryClient? registry = null)
{
    private readonly ContentStore _store = ContentStore.ForStateRoot(stateRoot);

    /// <summary>The content store.</summary>
    public ContentStore Store => _store;

    /// <summary>The state root.</summary>
    public string StateRoot => stateRoot;

    /// <summary>Called once when an operation waits for another dbuild process (a prune, or the builds and pulls a prune waits for).</summary>
    public Action? Waiting { get; init; }

    /// <summary>
    /// Every tagged image whose content (for an index: at least one platform's) is in the store, sorted by name, then the
    /// dangling ones (<see cref="LocalImage.Dangling"/>, no name) in the order they were left behind.
    /// </summary>
    public async Task<IReadOnlyList<LocalImage>> ListAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<LocalImage>();
        IEnumerable<(string Name, Descriptor Descriptor)> unnamed = (await _store.ListUnnamedAsync(cancellationToken).ConfigureAwait(false)).Select(d => ("", d));
        foreach ((string name, Descriptor descriptor) in (await _store.ListNamesAsync(cancellationToken).ConfigureAwait(false)).Concat(unnamed))
        {
            StoredImage stored = await StoredImage.ReadAsync(_store, descriptor, cancellationToken).ConfigureAwait(false);
            if (stored.Default is not { } image) { continue; } // 'dbuild verify' names what is missing
            ImageManifest manifest = image.Manifest!;
            ImageConfig config = await ReadConfigAsync(manifest, cancellationToken).ConfigureAwait(false);
            result.Add(new LocalImage(name, descriptor, manifest.Config.Digest, config.Created, manifest.Layers.Sum(l => l.Size) + manifest.Config.Size)
            {
                Platform = config.Platform,
                Dangling = name.Length == 0,
            });
        }
        return [.. result.OrderBy(i => i.Dangling).ThenBy(i => i.Name, StringComparer.Ordinal)];
    }

    /// <summary>Finds an image by name (normalised like docker), image ID or manifest digest (a unique prefix is enough).</summary>
    public async Task<LocalImage> FindAsync(string nameOrId, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<LocalImage> all = await ListAsync(cancellationToken).ConfigureAwait(false);
        string? normalised = Normalise(nameOrId);
        LocalImage? byName = all.FirstOrDefault(i => i.Name == normalised || i.Name == nameOrId);
        if (byName is not null) { return byName; }
        if ((await _store.ListNamesAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(n => n.Name == normalised || n.Name == nameOrId) is { Descriptor: { } broken })
        {
            throw Unusable(nameOrId, await StoredImage.ReadAsync(_store, broken, cancellationToken).ConfigureAwait(false));
        }
        string hex = nameOrId.StartsWith("sha256:", StringComparison.Ordinal) ? nameOrId[7..] : nameOrId;
        var byId = all.Where(i => hex.Length >= 4 && (i.ImageId.Encoded.StartsWith(hex, StringComparison.Ordinal) || i.Manifest.Digest.Encoded.StartsWith(hex, StringComparison.Ordinal)))
            .DistinctBy(i => i.Manifest.Digest).ToList();
        return byId.Count == 1 ? byId[0] : throw new BuildException(byId.Count == 0
            ? $"No such image: {nameOrId}. 'dbuild images' lists the local store; 'dbuild pull {nameOrId}' fetches it."
            : $"{nameOrId} is ambiguous: it matches {byId.Count} images.");
    }

    /// <summary>
    /// The manifest and config of an image: for an index, the stored platform image that suits this machine best, else
    /// the one that is stored (an index pulled for another platform keeps only that platform's content).
    /// </summary>
    public async Task<(ImageManifest Manifest, ImageConfig Config)> ReadImageAsync(Descriptor descriptor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        StoredImage stored = await StoredImage.ReadAsync(_store, descriptor, cancellationToken).ConfigureAwait(false);
        ImageManifest manifest = stored.Default?.Manifest ?? throw Unusable(descriptor.Digest.ToString(), stored);
        return (manifest, await ReadConfigAsync(manifest, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Gives an image another name.</summary>
    public async Task TagAsync(string source, Reference target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        LocalImage image = await FindAsync(source, cancellationToken).ConfigureAwait(false);
        await _store.TagAsync(target.ToString(), image.Manifest, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes a name (even one whose blobs are gone), or every name of an image ID; blobs stay until <see cref="PruneAsync"/>.</summary>
    public async Task<IReadOnlyList<string>> RemoveAsync(string nameOrId, CancellationToken cancellationToken = default)
    {
        string? normalised = Normalise(nameOrId);
        IReadOnlyList<(string Name, Descriptor Descriptor)> names = await _store.ListNamesAsync(cancellationToken).ConfigureAwait(false);
        if (names.FirstOrDefault(n => n.Name == normalised || n.Name == nameOrId).Name is { } exact)
        {
            await _store.UntagAsync(exact, cancellationToken).ConfigureAwait(false);
            return [exact];
        }
        LocalImage image = await FindAsync(nameOrId, cancellationToken).ConfigureAwait(false);
        var removed = names.Where(n => n.Descriptor.Digest == image.Manifest.Digest).Select(n => n.Name).ToList();
        foreach (string name in removed) { await _store.UntagAsync(name, cancellationToken).ConfigureAwait(false); }
        return removed;
    }

    /// <summary>
    /// Pushes a local image to its registry (or to <paramref name="target"/>): a whole index when the store (or the
    /// destination) has every platform, else the one platform image that was pulled, as docker does. Blobs another
    /// repository of the same registry has (the one an image was pulled from) are mounted from there.
    /// </summary>
    public async Task<PushResult> PushAsync(string name, Reference? target = null, CancellationToken cancellationToken = default)
    {
        LocalImage image = await FindAsync(name, cancellationToken).ConfigureAwait(false);
        Reference destination = target ?? Reference.Parse(image.Name);
        IReadOnlyDictionary<Digest, string> sources = await MountSourcesAsync(destination.Registry, cancellationToken).ConfigureAwait(false);
        PushResult pushed = await ImagePusher.PushAsync(_store, registry, destination, image.Manifest, sources, cancellationToken).ConfigureAwait(false);
        await new RepoDigests(_store).RecordAsync(image.ImageId, destination, pushed.Digest, cancellationToken).ConfigureAwait(false); // as docker push does
        return pushed;
    }

    /// <summary>
    /// Pulls an image into the store and names it: for <paramref name="platform"/> (this machine's when null), or with
    /// <paramref name="allPlatforms"/> the whole index with every platform's content.
    /// </summary>
    public async Task<PulledImage> PullAsync(Reference reference, Platform? platform, bool allPlatforms = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (registry is null) { throw new BuildException("Pulling needs a registry client."); }
        using FileLock use = await StoreUse.ForWritingAsync(stateRoot, Waiting, cancellationToken).ConfigureAwait(false); // no prune while its blobs are unnamed
        Descriptor top = allPlatforms
            ? await ImagePull.PullAllPlatformsAsync(registry, _store, reference, cancellationToken).ConfigureAwait(false)
            : await ImagePull.PullAsync(registry, _store, reference, platform ?? Platform.Current, cancellationToken).ConfigureAwait(false);
        StoredImage stored = await StoredImage.ReadAsync(_store, top, cancellationToken).ConfigureAwait(false);
        if (stored.Default?.Manifest is { } pulled)
        {
            // docker records repository@digest of what it pulled, and knows each layer's unpacked size from then on.
            await new RepoDigests(_store).RecordAsync(pulled.Config.Digest, reference, top.Digest, cancellationToken).ConfigureAwait(false);
            await new LayerSizes(_store).GetImageSizeAsync(pulled, cancellationToken).ConfigureAwait(false);
        }
        string? warning = null;
        if (platform is not null && !allPlatforms && stored.Index is null && stored.Manifests[0].Manifest is { } manifest)
        {
            // docker pull --platform: a single-platform image for another platform is pulled, with this warning.
            Platform actual = (await ReadConfigAsync(manifest, cancellationToken).ConfigureAwait(false)).Platform;
            if (!platform.CanRun(actual))
            {
                warning = $"image with reference {reference.FamiliarRepository} was found but does not match the specified platform: wanted {platform}, actual: {actual}";
            }
        }
        return new PulledImage(top, warning);
    }

    /// <summary>Deletes blobs no image (tagged or dangling) reaches, and the build cache; returns bytes freed.</summary>
    public async Task<long> PruneAsync(bool all, CancellationToken cancellationToken = default)
    {
        using FileLock prune = await StoreUse.ForPruningAsync(stateRoot, Waiting, cancellationToken).ConfigureAwait(false);
        var keep = new HashSet<Digest>();
        foreach (Descriptor descriptor in (await _store.ReadIndexAsync(cancellationToken).ConfigureAwait(false)).Manifests) // dangling images too ('image prune' removes them)
        {
            keep.UnionWith((await StoredImage.ReadAsync(_store, descriptor, cancellationToken).ConfigureAwait(false)).StoredBlobs(_store));
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

    /// <summary>
    /// For each blob of the store's images pulled from <paramref name="registryHost"/>, the repository it came from
    /// (<see cref="ContentStore.SourceAnnotation"/>): a push to that registry mounts the blob instead of uploading it.
    /// </summary>
    private async Task<IReadOnlyDictionary<Digest, string>> MountSourcesAsync(string registryHost, CancellationToken cancellationToken)
    {
        var sources = new Dictionary<Digest, string>();
        foreach ((_, Descriptor descriptor) in await _store.ListNamesAsync(cancellationToken).ConfigureAwait(false))
        {
            if (descriptor.Annotations?.GetValueOrDefault(ContentStore.SourceAnnotation) is not { } source
                || !Reference.TryParse(source, out Reference? from, out _) || from.Registry != registryHost) { continue; }
            StoredImage stored = await StoredImage.ReadAsync(_store, descriptor, cancellationToken).ConfigureAwait(false);
            foreach (Digest digest in stored.StoredBlobs(_store)) { sources.TryAdd(digest, from.Repository); }
        }
        return sources;
    }

    private async Task<ImageConfig> ReadConfigAsync(ImageManifest manifest, CancellationToken cancellationToken) =>
        ImageConfig.Parse(await _store.ReadBlobBytesAsync(manifest.Config.Digest, cancellationToken: cancellationToken).ConfigureAwait(false));

    private static BuildException Unusable(string name, StoredImage image)
    {
        IReadOnlyList<(Digest Digest, string What)> missing = image.MissingContent();
        string why = missing.Count > 0 ? "it lacks " + string.Join(", ", missing.Select(m => $"{m.What} {m.Digest}")) : "none of its manifests is an image stored in full";
        return new BuildException($"{name} is in the local store but not usable: {why}. Pull it again or remove it ('dbuild verify' checks the store).");
    }

    private static string? Normalise(string name) => Reference.TryParse(name, out Reference? reference, out _) ? reference.ToString() : null;
}
