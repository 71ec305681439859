using Dbuild.Oci;
using Dbuild.Registry.Client;

namespace Dbuild.Solver.Cache;

/// <summary>
/// A cache read from <c>--cache-from</c>: its index only (records and step key parts), loaded once at the start of the
/// build. A hit names the record's layer and where its blob is (<see cref="LazyBlobs"/>); nothing is downloaded here.
/// Records are never written to it (<c>--cache-to</c> writes a new one at the end of the build).
/// </summary>
internal sealed class ImportedCache : IBuildCache
{
    private readonly Dictionary<Digest, CacheIndexRecord> _records = [];
    private readonly Dictionary<string, IReadOnlyList<KeyComponent>> _steps = new(StringComparer.Ordinal);
    private readonly Dictionary<Digest, Descriptor> _blobs = [];
    private readonly BlobPlace _place;
    private readonly LazyBlobs _lazy;

    public ImportedCache(string description, CacheIndex index, IReadOnlyList<Descriptor> blobs, BlobPlace place, LazyBlobs lazy)
    {
        Description = description;
        foreach (CacheIndexRecord record in index.Records) { _records.TryAdd(Digest.Parse(record.Key), record); }
        foreach (CacheIndexStep step in index.Steps) { _steps.TryAdd(step.Id, step.Components); }
        foreach (Descriptor blob in blobs) { _blobs.TryAdd(blob.Digest, blob); }
        _place = place;
        _lazy = lazy;
    }

    public string Description { get; }

    public int Count => _records.Count;

    /// <summary>
    /// The record under <paramref name="key"/> when the cache has its blob (a record naming a layer the manifest does not
    /// list is ignored: the blob may never have been pushed).
    /// </summary>
    public Task<CacheRecord?> TryGetAsync(Digest key, CancellationToken cancellationToken)
    {
        if (!_records.TryGetValue(key, out CacheIndexRecord? record)) { return Task.FromResult<CacheRecord?>(null); }
        if (record.Layer is not { } layer) { return Task.FromResult<CacheRecord?>(new CacheRecord(null)); }
        if (!_blobs.TryGetValue(Digest.Parse(layer.Digest), out Descriptor? blob) || blob.Size != layer.Size) { return Task.FromResult<CacheRecord?>(null); }
        _lazy.Add(blob with { MediaType = layer.MediaType }, _place);
        return Task.FromResult<CacheRecord?>(new CacheRecord(layer) { Source = _place.Repository });
    }

    public Task PutAsync(Digest key, CacheRecord record, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The key parts the exporting build computed for a step (by step id), to explain a miss.</summary>
    public IReadOnlyList<KeyComponent>? StepHistory(Digest stepId) => _steps.GetValueOrDefault(stepId.ToString());
}

/// <summary>Loads <c>--cache-from</c> caches: a registry cache manifest, an image with an inline cache, or an OCI layout directory.</summary>
internal static class CacheImporter
{
    private const int MaxIndexBytes = 64 * 1024 * 1024;

    /// <summary>The cache, or null with <paramref name="warn"/> told why (missing, unreadable, not a cache): the build goes on without it.</summary>
    public static async Task<ImportedCache?> LoadAsync(CacheImport import, RegistryClient? client, LazyBlobs lazy, Platform platform, Action<string> warn,
        CancellationToken cancellationToken)
    {
        try
        {
            return import.Type == CacheSpecType.Local
                ? await LoadLayoutAsync(import, lazy, warn, cancellationToken).ConfigureAwait(false)
                : await LoadRegistryAsync(import, client, lazy, platform, warn, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RegistryException or HttpRequestException or IOException or InvalidContentException or DigestMismatchException or UnauthorizedAccessException)
        {
            warn($"failed to import cache {import.Description}: {ex.Message}");
            return null;
        }
    }

    private static async Task<ImportedCache?> LoadRegistryAsync(CacheImport import, RegistryClient? client, LazyBlobs lazy, Platform platform, Action<string> warn,
        CancellationToken cancellationToken)
    {
        Reference reference = import.Ref!;
        if (client is null) { warn($"cache {reference} not imported: no registry client (offline build)"); return null; }
        ResolvedImage resolved;
        try
        {
            resolved = await client.ResolveImageAsync(reference.Registry, reference.Repository, reference.ManifestReference, platform, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            warn($"cache {reference} not found, building without it");
            return null;
        }
        ImageManifest manifest = ImageManifest.Parse(resolved.Manifest.Content.Span);
        byte[] config = await ReadBlobAsync(client, reference, manifest.Config, cancellationToken).ConfigureAwait(false);
        var place = new BlobPlace(reference, null);
        return Index(import, manifest, config, place, lazy, warn);
    }

    private static async Task<ImportedCache?> LoadLayoutAsync(CacheImport import, LazyBlobs lazy, Action<string> warn, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(import.Source)) { warn($"local cache import at {import.Source} not found, building without it"); return null; }
        ContentStore layout = ContentStore.OpenExisting(import.Source!);
        foreach (Descriptor entry in (await layout.ReadIndexAsync(cancellationToken).ConfigureAwait(false)).Manifests.Where(m => MediaTypes.IsManifest(m.MediaType)))
        {
            if (!layout.Contains(entry.Digest)) { continue; }
            ImageManifest manifest = ImageManifest.Parse(await layout.ReadBlobBytesAsync(entry.Digest, MaxIndexBytes, cancellationToken).ConfigureAwait(false));
            if (!IsCacheManifest(manifest) || !layout.Contains(manifest.Config.Digest)) { continue; }
            byte[] config = await layout.ReadBlobBytesAsync(manifest.Config.Digest, MaxIndexBytes, cancellationToken).ConfigureAwait(false);
            if (Digest.Compute(config) != manifest.Config.Digest) { warn($"cache {import.Source}: its index blob does not match its digest; ignored"); return null; }
            return Index(import, manifest, config, new BlobPlace(null, layout), lazy, warn);
        }
        warn($"{import.Source} holds no dbuild cache manifest, building without it");
        return null;
    }

    private static bool IsCacheManifest(ImageManifest manifest) =>
        manifest.ArtifactType == CacheIndex.ArtifactType || manifest.Config.MediaType == CacheIndex.ConfigMediaType;

    /// <summary>The cache index of a cache manifest's config, or of an image config's inline cache.</summary>
    private static ImportedCache? Index(CacheImport import, ImageManifest manifest, byte[] config, BlobPlace place, LazyBlobs lazy, Action<string> warn)
    {
        CacheIndex? index;
        string? error;
        if (IsCacheManifest(manifest)) { index = CacheIndex.TryParse(config, out error); }
        else if (ImageConfig.Parse(config).Extra?.GetValueOrDefault(CacheIndex.InlineKey) is { ValueKind: System.Text.Json.JsonValueKind.Object } inline)
        {
            index = CacheIndex.TryParse(System.Text.Encoding.UTF8.GetBytes(inline.GetRawText()), out error);
        }
        else
        {
            warn($"{import.Description} is neither a dbuild cache nor an image with an inline cache, building without it");
            return null;
        }
        if (index is null) { warn($"cache {import.Description} is corrupt ({error}); ignored"); return null; }
        return new ImportedCache(import.Description, index, manifest.Layers, place, lazy);
    }

    private static async Task<byte[]> ReadBlobAsync(RegistryClient client, Reference reference, Descriptor blob, CancellationToken cancellationToken)
    {
        if (blob.Size > MaxIndexBytes) { throw new InvalidContentException($"cache config {blob.Digest} is {blob.Size} bytes, more than {MaxIndexBytes}."); }
        Stream stream = await client.OpenBlobAsync(reference.Registry, reference.Repository, blob.Digest, blob.Size, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var memory = new MemoryStream();
            await stream.CopyToAsync(memory, cancellationToken).ConfigureAwait(false); // the stream verifies the digest at its end
            return memory.ToArray();
        }
    }
}
