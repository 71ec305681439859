using System.Text.Json;
using Dbuild.Oci;

namespace Dbuild.Solver.Cache;

/// <summary>
/// Which build cache record files point at which blob or snapshot, and when each was last used (its mtime, touched on a
/// hit): <c>buildcache/keys/*.json</c> (a step's blob or snapshot), <c>layers/*.json</c> and <c>compressed/*.json</c>
/// (blobs; a <c>compressed/snapshot-&lt;id&gt;-…</c> record also names its snapshot), <c>layers/*.snapshot</c>,
/// <c>snapshots/&lt;id&gt;.files</c> and <c>snapshots/step-*</c> (snapshots). Pruning an entry deletes the records
/// that point at it, so no record outlives what it names.
/// </summary>
internal sealed class CacheRecordIndex
{
    private readonly Dictionary<Digest, List<string>> _blobs = [];
    private readonly Dictionary<Digest, List<string>> _snapshots = [];
    private readonly Dictionary<string, DateTime> _times = new(StringComparer.Ordinal);

    private CacheRecordIndex() { }

    /// <summary>The <c>buildcache</c> directory of a state root.</summary>
    public static string Directory(string stateRoot) => Path.Combine(stateRoot, "buildcache");

    /// <summary>Snapshots a compressed record ties to a blob: the blob is the snapshot's layer.</summary>
    public Dictionary<Digest, Digest> CompressedSnapshots { get; } = [];

    public static async Task<CacheRecordIndex> ReadAsync(string stateRoot, CancellationToken cancellationToken)
    {
        var index = new CacheRecordIndex();
        string root = Directory(stateRoot);
        foreach (string file in Files(root, "keys", "*.json"))
        {
            CacheRecord? record = await ReadJsonAsync(file, SolverJson.Default.CacheRecord, cancellationToken).ConfigureAwait(false);
            index.Add(index._blobs, record?.Layer?.Digest, file);
            index.Add(index._snapshots, record?.Snapshot, file);
        }
        foreach (string file in Files(root, "layers", "*.json").Concat(Files(root, "compressed", "*.json")))
        {
            CachedLayer? layer = await ReadJsonAsync(file, SolverJson.Default.CachedLayer, cancellationToken).ConfigureAwait(false);
            index.Add(index._blobs, layer?.Digest, file);
            string name = Path.GetFileName(file);
            if (name.StartsWith("snapshot-", StringComparison.Ordinal) && name.Length > 73
                && Digest.TryParse("sha256:" + name[9..73], out Digest snapshot) && Digest.TryParse(layer?.Digest, out Digest blob))
            {
                index.Add(index._snapshots, snapshot.ToString(), file);
                index.CompressedSnapshots[blob] = snapshot;
            }
        }
        foreach (string file in Files(root, "layers", "*.snapshot").Concat(Files(root, "snapshots", "step-*")))
        {
            index.Add(index._snapshots, await ReadTextAsync(file, cancellationToken).ConfigureAwait(false), file);
        }
        foreach (string file in Files(root, "snapshots", "*.files"))
        {
            index.Add(index._snapshots, "sha256:" + Path.GetFileNameWithoutExtension(file), file);
        }
        return index;
    }

    /// <summary>The records pointing at a blob.</summary>
    public IReadOnlyList<string> ForBlob(Digest digest) => _blobs.GetValueOrDefault(digest) ?? [];

    /// <summary>The records pointing at a snapshot.</summary>
    public IReadOnlyList<string> ForSnapshot(Digest id) => _snapshots.GetValueOrDefault(id) ?? [];

    /// <summary>The latest use among <paramref name="records"/> and <paramref name="since"/>.</summary>
    public DateTime LastUsed(IEnumerable<string> records, DateTime since) =>
        records.Select(r => _times.GetValueOrDefault(r)).Append(since).Max();

    private void Add(Dictionary<Digest, List<string>> map, string? target, string file)
    {
        if (!Digest.TryParse(target, out Digest digest)) { return; }
        if (!map.TryGetValue(digest, out List<string>? files)) { map[digest] = files = []; }
        files.Add(file);
        _times[file] = File.GetLastWriteTimeUtc(file);
    }

    private static IEnumerable<string> Files(string root, string directory, string pattern)
    {
        string path = Path.Combine(root, directory);
        return System.IO.Directory.Exists(path) ? System.IO.Directory.EnumerateFiles(path, pattern) : [];
    }

    private static async Task<T?> ReadJsonAsync<T>(string file, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        try { return JsonSerializer.Deserialize(await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false), type); }
        catch (Exception ex) when (ex is JsonException or FileNotFoundException) { return default; } // torn, foreign or removed meanwhile
    }

    private static async Task<string?> ReadTextAsync(string file, CancellationToken cancellationToken)
    {
        try { return (await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false)).Trim(); }
        catch (FileNotFoundException) { return null; }
    }
}
