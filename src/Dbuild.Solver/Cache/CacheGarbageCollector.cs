using Dbuild.Oci;
using Dbuild.Oci.Locking;

namespace Dbuild.Solver.Cache;

/// <summary>
/// The automatic GC at the end of a build: applies the state root's <see cref="GcPolicy"/> when the cache is over its
/// limit. The check reads the records and each snapshot's remembered size, so it is cheap when there is nothing to do.
/// It never removes what the build that just finished used, nor what a build still running on the root may use:
/// anything used since the earliest of them started (<see cref="RunningBuilds"/>; records, snapshots and cache mounts
/// are marked when used), and the blobs of the image it made. It deletes only when the build's shared use lock
/// (<see cref="Store.StoreUse"/>) turns exclusive, that is when no other build, pull or prune runs on the root; otherwise
/// it leaves the work to a later build.
/// </summary>
internal static class CacheGarbageCollector
{
    /// <summary>Runs the policy; returns the bytes freed.</summary>
    public static async Task<long> CollectAfterBuildAsync(BuilderOptions options, Descriptor built, FileLock use, CancellationToken cancellationToken)
    {
        GcPolicy policy = GcPolicy.Load(options.StateRoot);
        if (!policy.Enabled) { return 0; }
        long limit = policy.LimitBytes(DiskSize(options.StateRoot));
        CacheUsageReport report = await CacheUsage.ScanAsync(options.StateRoot, exact: false, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<CachePruneOptions> steps = policy.Steps(limit);
        if (!steps.Any(s => CachePruner.Select(report, s, options.TimeProvider.GetUtcNow()).Count > 0)) { return 0; } // the cheap path
        if (!use.TryUpgrade())
        {
            Log.CacheCollectionDeferred(options.Logger); // another process uses the root: a later build collects
            return 0;
        }
        report = await CacheUsage.ScanAsync(options.StateRoot, exact: false, cancellationToken).ConfigureAwait(false); // as it is now, under the lock
        var store = ContentStore.ForStateRoot(options.StateRoot);
        var keep = (await StoredImage.ReadAsync(store, built, cancellationToken).ConfigureAwait(false)).StoredBlobs(store).Select(d => d.ToString()).ToHashSet(StringComparer.Ordinal);
        DateTimeOffset since = RunningBuilds.InUseSince(options.StateRoot) ?? RunningBuilds.ThisProcessStarted; // this build's among them
        bool InUse(CacheEntry e) => e.LastUsed >= since || keep.Contains(e.Id);
        long freed = 0;
        foreach (CachePruneOptions step in steps)
        {
            IReadOnlyList<CacheEntry> chosen = CachePruner.Select(report, step, options.TimeProvider.GetUtcNow(), InUse);
            if (chosen.Count == 0) { continue; }
            try { freed += CachePruner.Delete(chosen); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.CacheCollectionFailed(options.Logger, ex.Message); // the build succeeded; a prune can finish the job
                return freed;
            }
            var gone = chosen.ToHashSet();
            report = report with { Entries = [.. report.Entries.Where(e => !gone.Contains(e))] };
        }
        if (freed > 0) { Log.CacheCollected(options.Logger, freed, report.CacheSize, limit); }
        return freed;
    }

    /// <summary>The size of the file system holding the state root (BuildKit sizes its default limit from it).</summary>
    internal static long DiskSize(string stateRoot)
    {
        try { return new DriveInfo(Path.GetFullPath(stateRoot)).TotalSize; }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException) { return 20_000_000_000; } // BuildKit's 2GB cap at 10%
    }
}
