using System.Text.Json;
using System.Text.Json.Serialization;
using Dbuild.Oci;

namespace Dbuild.Solver.Cache;

/// <summary>A cached step result: the layer it made (null for a step that changed nothing).</summary>
internal sealed record CachedLayer(
    [property: JsonPropertyName("mediaType")] string MediaType,
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("diffId")] string DiffId);

internal sealed record CacheRecord([property: JsonPropertyName("layer")] CachedLayer? Layer)
{
    /// <summary>A layer kept as a snapshot (no blob yet): its id.</summary>
    [JsonPropertyName("snapshot")]
    public string? Snapshot { get; init; }

    /// <summary>The snapshot is a RUN's: only changes go into its tar.</summary>
    [JsonPropertyName("onlyChanges")]
    public bool OnlyChanges { get; init; }

    /// <summary>An imported cache's record: the repository its layer blob is in (the push mounts it from there).</summary>
    [JsonIgnore]
    public Reference? Source { get; init; }

    /// <summary>The result as a layer of its filesystem, or null when it has none.</summary>
    public ChainLayer? ToLayer() =>
        Snapshot is { } id ? new ChainLayer { Snapshot = Digest.Parse(id), OnlyChanges = OnlyChanges }
        : Layer is { } l ? ChainLayer.Of(new LayerRef(new Descriptor(l.MediaType, Digest.Parse(l.Digest), l.Size), Digest.Parse(l.DiffId)) { Source = Source }) : null;
}

internal sealed record StepHistoryRecord([property: JsonPropertyName("components")] IReadOnlyList<KeyComponent> Components);

/// <summary>
/// The local build cache under the state root (the <see cref="IBuildCache"/> every build consults): <c>buildcache/keys/&lt;key&gt;.json</c> maps a step key to its
/// layer; <c>buildcache/steps/&lt;id&gt;.json</c> keeps each step's last components to explain misses. Every write goes
/// to a temp file and is renamed into place, so concurrent builds on one root only ever see whole records.
/// </summary>
internal sealed class BuildCache : IBuildCache
{
    private readonly string _keys;
    private readonly string _steps;
    private readonly string _layers;
    private readonly ContentStore _store;

    public BuildCache(string stateRoot, ContentStore store)
    {
        _keys = Path.Combine(stateRoot, "buildcache", "keys");
        _steps = Path.Combine(stateRoot, "buildcache", "steps");
        _layers = Path.Combine(stateRoot, "buildcache", "layers");
        Directory.CreateDirectory(_keys);
        Directory.CreateDirectory(_steps);
        Directory.CreateDirectory(_layers);
        _store = store;
    }

    public string Description => "local cache";

    /// <summary>The cached result, or null on a miss (also when its layer blob is gone from the store).</summary>
    public async Task<CacheRecord?> TryGetAsync(Digest key, CancellationToken cancellationToken)
    {
        string path = Path.Combine(_keys, key.Encoded + ".json");
        if (!File.Exists(path)) { return null; }
        try
        {
            byte[] bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            CacheRecord? record = JsonSerializer.Deserialize(bytes, SolverJson.Default.CacheRecord);
            if (record?.Layer is { } layer && !_store.Contains(Digest.Parse(layer.Digest))) { return null; }
            MarkUsed(path);
            return record;
        }
        catch (JsonException) { return null; } // a torn or foreign file is a miss, never a failure
        catch (FileNotFoundException) { return null; }
    }

    /// <summary>A layer recorded under <paramref name="name"/> (see <see cref="PutLayerAsync"/>), if its blob is still stored.</summary>
    public Task<CachedLayer?> TryGetLayerAsync(string name, CancellationToken cancellationToken) =>
        ReadLayerRecordAsync(Path.Combine(_layers, name + ".json"), _store, cancellationToken);

    /// <summary>Records the layer a set of entries made, under the entries' digest (<c>buildcache/layers/</c>).</summary>
    public Task PutLayerAsync(string name, CachedLayer layer, CancellationToken cancellationToken) =>
        WriteLayerRecordAsync(Path.Combine(_layers, name + ".json"), layer, cancellationToken);

    /// <summary>Reads a layer record file; null when it is missing, torn, or its blob is no longer stored whole.</summary>
    internal static async Task<CachedLayer?> ReadLayerRecordAsync(string path, ContentStore store, CancellationToken cancellationToken)
    {
        try
        {
            CachedLayer? layer = JsonSerializer.Deserialize(await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false), SolverJson.Default.CachedLayer);
            if (layer is null || !Digest.TryParse(layer.Digest, out Digest digest) || store.GetSize(digest) != layer.Size) { return null; }
            MarkUsed(path);
            return layer;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or JsonException) { return null; }
    }

    internal static Task WriteLayerRecordAsync(string path, CachedLayer layer, CancellationToken cancellationToken) =>
        WriteAtomicAsync(path, JsonSerializer.SerializeToUtf8Bytes(layer, SolverJson.Default.CachedLayer), cancellationToken);

    public Task PutAsync(Digest key, CacheRecord record, CancellationToken cancellationToken) =>
        WriteAtomicAsync(Path.Combine(_keys, key.Encoded + ".json"), JsonSerializer.SerializeToUtf8Bytes(record, SolverJson.Default.CacheRecord), cancellationToken);

    public async Task<IReadOnlyList<KeyComponent>?> GetStepHistoryAsync(Digest stepId, CancellationToken cancellationToken)
    {
        string path = Path.Combine(_steps, stepId.Encoded + ".json");
        if (!File.Exists(path)) { return null; }
        try
        {
            return JsonSerializer.Deserialize(await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false), SolverJson.Default.StepHistoryRecord)?.Components;
        }
        catch (JsonException) { return null; }
        catch (FileNotFoundException) { return null; }
    }

    public Task PutStepHistoryAsync(Digest stepId, IReadOnlyList<KeyComponent> components, CancellationToken cancellationToken) =>
        WriteAtomicAsync(Path.Combine(_steps, stepId.Encoded + ".json"), JsonSerializer.SerializeToUtf8Bytes(new StepHistoryRecord(components), SolverJson.Default.StepHistoryRecord), cancellationToken);

    /// <summary>Drops every record: step keys, step histories, compressed-layer, image-date and snapshot-file records.</summary>
    public void Clear()
    {
        string root = Path.GetDirectoryName(_keys)!;
        foreach (string dir in new[] { _keys, _steps, _layers, Path.Combine(root, "compressed"), Path.Combine(root, "images"), Path.Combine(root, "snapshots") }.Where(Directory.Exists))
        {
            foreach (string file in Directory.EnumerateFiles(dir)) { File.Delete(file); }
        }
    }

    public int Count => Directory.EnumerateFiles(_keys, "*.json").Count();

    /// <summary>A record's mtime is its last use: <c>dbuild builder prune --filter until=…</c> and the GC policy drop the least recently used.</summary>
    private static void MarkUsed(string path)
    {
        try { File.SetLastWriteTimeUtc(path, DateTime.UtcNow); }
        catch (IOException) { } // replaced or removed meanwhile: its writer's time stands
        catch (UnauthorizedAccessException) { }
    }

    internal static async Task WriteAtomicAsync(string path, byte[] bytes, CancellationToken cancellationToken)
    {
        string temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        await File.WriteAllBytesAsync(temp, bytes, cancellationToken).ConfigureAwait(false);
        File.Move(temp, path, overwrite: true);
    }
}
