using System.Diagnostics;
using System.Globalization;
using Dbuild.Oci;
using Dbuild.Registry.Storage;

namespace Dbuild.Registry.Gc;

/// <summary>
/// The sweep phase, after <see cref="GarbageCollector.MarkAsync"/>: unreachable revisions (with <c>untagged: delete</c>, or
/// released by <c>policies.retention</c>),
/// unmarked blobs, layer links to swept or missing blobs, and idle uploads. Online, a digest goes only when its last
/// vouch is older than <c>markStart - grace</c> and a conditional write condemned it first (docs/registry-gc.md).
/// </summary>
internal sealed class GcSweeper(RegistryStorage storage, BlobMarkers markers)
{
    /// <summary>A condemnation this old belongs to a pass that died; a later pass may finish it.</summary>
    private static readonly TimeSpan AbandonedCondemnation = TimeSpan.FromMinutes(15);

    private readonly IStorageDriver _driver = storage.Driver;

    public async Task<GcSummary> SweepAsync(MarkResult mark, GcSettings settings, DateTimeOffset markStart, Action<string> emit, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        var pass = new Pass(mark.Marked, settings, markStart - settings.Grace);
        try
        {
            // Unreachable revisions are roots under untagged: keep, unless retention released them.
            await SweepRevisionsAsync(pass, mark.Unreachable, emit, cancellationToken).ConfigureAwait(false);
            List<(Digest Digest, long Size, BlobMarker Marker)> blobs = await FindBlobsAsync(pass, cancellationToken).ConfigureAwait(false);
            emit($"\n{mark.Marked.Count} blobs marked, {blobs.Count} blobs and {pass.Manifests} manifests eligible for deletion");
            foreach ((Digest digest, long size, BlobMarker marker) in blobs)
            {
                emit($"blob eligible for deletion: {digest}");
                if (!settings.DryRun)
                {
                    if (!await CondemnAsync(pass, digest, marker, cancellationToken).ConfigureAwait(false)) { continue; }
                    await _driver.DeleteAsync(RegistryStorage.BlobPath(digest), cancellationToken).ConfigureAwait(false);
                    // Offline nothing condemns; a marker online passes left for this digest goes with it.
                    if (!settings.Online) { await _driver.DeleteAsync(BlobMarkers.MarkerPath(digest), cancellationToken).ConfigureAwait(false); }
                }
                pass.Swept.Add(digest); // in a dry run: would be swept (so its links are reported too)
                pass.Bytes += size;
            }
            await SweepLinksAsync(pass, emit, cancellationToken).ConfigureAwait(false);
            if (settings.Online) { await SweepUploadsAsync(pass, emit, cancellationToken).ConfigureAwait(false); }
        }
        finally
        {
            // Deleted or not, the digests this pass condemned are free again (a marker rewritten since stays).
            foreach ((Digest digest, string etag) in pass.Condemned) { await markers.ReleaseAsync(digest, etag, CancellationToken.None).ConfigureAwait(false); }
        }
        return new GcSummary(mark.Marked.Count, pass.Swept.Count, pass.Bytes, pass.Manifests, pass.Links, pass.Uploads, Stopwatch.GetElapsedTime(started), settings.DryRun);
    }

    private async Task SweepRevisionsAsync(Pass pass, List<UnreachableRevision> unreachable, Action<string> emit, CancellationToken cancellationToken)
    {
        foreach ((string repository, Digest digest, IReadOnlyList<string> tags) in unreachable)
        {
            DateTimeOffset? stored = (await _driver.StatAsync(RegistryStorage.BlobDataPath(digest), cancellationToken).ConfigureAwait(false))?.Modified;
            if (await AgeAsync(pass, digest, stored, cancellationToken).ConfigureAwait(false) is not { } marker) { continue; }
            emit($"manifest eligible for deletion: {repository}@{digest}");
            if (!pass.Settings.DryRun && !await CondemnAsync(pass, digest, marker, cancellationToken).ConfigureAwait(false)) { continue; }
            pass.Manifests++;
            if (pass.Settings.DryRun) { continue; }
            foreach (string tag in tags)
            {
                string index = RegistryStorage.TagIndexLinkPath(repository, tag, digest);
                await _driver.DeleteAsync(index[..index.LastIndexOf('/')], cancellationToken).ConfigureAwait(false);
            }
            await storage.DeleteRevisionLinkAsync(repository, digest, cancellationToken).ConfigureAwait(false);
            if (pass.Marked.Contains(digest) && pass.Condemned.Remove(digest, out string? etag))
            {
                await markers.ReleaseAsync(digest, etag, cancellationToken).ConfigureAwait(false); // its bytes stay: another repository keeps it
            }
        }
    }

    /// <summary>Unmarked blobs old enough to go, with their sizes. Memory: the garbage of one pass.</summary>
    private async Task<List<(Digest, long, BlobMarker)>> FindBlobsAsync(Pass pass, CancellationToken cancellationToken)
    {
        var unmarked = new List<(Digest Digest, long Size, DateTimeOffset Modified)>();
        await foreach (StorageEntry entry in _driver.WalkAsync(RegistryStorage.BlobsRoot, cancellationToken).ConfigureAwait(false))
        {
            // docker/registry/v2/blobs/<algorithm>/<2 hex>/<hex>/data
            string[] parts = entry.Path.Split('/');
            if (parts.Length < 4 || parts[^1] != "data" || !Digest.TryParse($"{parts[^4]}:{parts[^2]}", out Digest digest)) { continue; }
            if (!pass.Marked.Contains(digest)) { unmarked.Add((digest, entry.Size, entry.Modified)); }
        }
        var eligible = new List<(Digest, long, BlobMarker)>();
        foreach ((Digest digest, long size, DateTimeOffset modified) in unmarked)
        {
            if (await AgeAsync(pass, digest, modified, cancellationToken).ConfigureAwait(false) is { } marker) { eligible.Add((digest, size, marker)); }
        }
        return eligible;
    }

    /// <summary>Layer links whose blob this pass swept, or whose blob is missing (registry:2's GC leaves those behind).</summary>
    private async Task SweepLinksAsync(Pass pass, Action<string> emit, CancellationToken cancellationToken)
    {
        foreach (string repository in await storage.ListRepositoryFoldersAsync("_layers", cancellationToken).ConfigureAwait(false))
        {
            string layers = $"{RegistryStorage.RepositoryPath(repository)}/_layers";
            foreach (string algorithm in await storage.ListAllAsync(layers, cancellationToken).ConfigureAwait(false))
            {
                foreach (string encoded in await storage.ListAllAsync($"{layers}/{algorithm}", cancellationToken).ConfigureAwait(false))
                {
                    if (!Digest.TryParse($"{algorithm}:{encoded}", out Digest digest) || pass.Marked.Contains(digest)) { continue; }
                    if (!pass.Swept.Contains(digest))
                    {
                        if (await storage.StatBlobAsync(digest, cancellationToken).ConfigureAwait(false) is not null) { continue; } // young: kept with its blob
                        if (await AgeAsync(pass, digest, null, cancellationToken).ConfigureAwait(false) is not { } marker) { continue; }
                        if (!pass.Settings.DryRun && !await CondemnAsync(pass, digest, marker, cancellationToken).ConfigureAwait(false)) { continue; }
                    }
                    emit($"{repository}: layer link eligible for deletion: {digest}");
                    pass.Links++;
                    if (!pass.Settings.DryRun) { await _driver.DeleteAsync($"{layers}/{algorithm}/{encoded}", cancellationToken).ConfigureAwait(false); }
                }
            }
        }
    }

    private async Task SweepUploadsAsync(Pass pass, Action<string> emit, CancellationToken cancellationToken)
    {
        foreach (string repository in await storage.ListRepositoryFoldersAsync("_uploads", cancellationToken).ConfigureAwait(false))
        {
            string uploads = $"{RegistryStorage.RepositoryPath(repository)}/_uploads";
            foreach (string id in await storage.ListAllAsync(uploads, cancellationToken).ConfigureAwait(false))
            {
                DateTimeOffset? active = await storage.ReadLastActivityAsync(repository, id, cancellationToken).ConfigureAwait(false)
                    ?? await NewestItemAsync($"{uploads}/{id}", cancellationToken).ConfigureAwait(false);
                // No item at all: an upload being started right now (its folder exists, its state not yet), or nothing to reclaim.
                if (active is not { } a || a >= pass.Cutoff) { continue; }
                emit($"{repository}: upload eligible for deletion: {id} (last active {a.ToString("O", CultureInfo.InvariantCulture)})");
                pass.Uploads++;
                if (!pass.Settings.DryRun) { await _driver.DeleteAsync($"{uploads}/{id}", cancellationToken).ConfigureAwait(false); }
            }
        }
    }

    /// <summary>
    /// An upload whose state is gone (a completion claimed it and is moving its bytes), not yet written, or unreadable is
    /// as old as its newest item; null when it holds none.
    /// </summary>
    private async Task<DateTimeOffset?> NewestItemAsync(string prefix, CancellationToken cancellationToken)
    {
        DateTimeOffset? newest = null;
        await foreach (StorageEntry entry in _driver.WalkAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            if (newest is null || entry.Modified > newest) { newest = entry.Modified; }
        }
        return newest;
    }

    /// <summary>
    /// The digest's marker when the digest is old enough to go (last vouched before the cutoff; without a marker, stored
    /// before it), else null. Offline every unmarked digest is old enough.
    /// </summary>
    private async Task<BlobMarker?> AgeAsync(Pass pass, Digest digest, DateTimeOffset? stored, CancellationToken cancellationToken)
    {
        if (!pass.Settings.Online || pass.Condemned.ContainsKey(digest)) { return BlobMarker.None; }
        BlobMarker marker = await markers.ReadAsync(digest, cancellationToken).ConfigureAwait(false);
        if (marker.Condemned) { return marker.Time < pass.Cutoff - AbandonedCondemnation ? marker : null; } // another pass is on it
        DateTimeOffset age = marker.Exists ? marker.Time : stored ?? DateTimeOffset.MinValue;
        return age < pass.Cutoff ? marker : null;
    }

    /// <summary>Condemns the digest unless its marker changed since it was read (a request vouched for it meanwhile).</summary>
    private async Task<bool> CondemnAsync(Pass pass, Digest digest, BlobMarker seen, CancellationToken cancellationToken)
    {
        if (!pass.Settings.Online || pass.Condemned.ContainsKey(digest)) { return true; }
        if (await markers.CondemnAsync(digest, seen, cancellationToken).ConfigureAwait(false) is not { } etag) { return false; }
        pass.Condemned[digest] = etag;
        return true;
    }

    private sealed class Pass(HashSet<Digest> marked, GcSettings settings, DateTimeOffset cutoff)
    {
        public HashSet<Digest> Marked { get; } = marked;
        public GcSettings Settings { get; } = settings;
        public DateTimeOffset Cutoff { get; } = cutoff;
        public Dictionary<Digest, string> Condemned { get; } = [];
        public HashSet<Digest> Swept { get; } = [];
        public long Bytes { get; set; }
        public int Manifests { get; set; }
        public int Links { get; set; }
        public int Uploads { get; set; }
    }
}
