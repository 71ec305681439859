namespace Dbuild.Solver.Cache;

/// <summary>
/// What the state root holds: the tagged images (their blobs, counted first) and the build cache's entries. Sizes are
/// <c>du -sb</c>'s: apparent bytes of every file, directory and symlink, a hard-linked file counted once overall.
/// </summary>
public sealed record CacheUsageReport(int ImageCount, long ImagesSize, IReadOnlyList<CacheEntry> Entries)
{
    /// <summary>Entries of one kind, most recently used first.</summary>
    public IReadOnlyList<CacheEntry> Of(params CacheEntryKind[] kinds) =>
        [.. Entries.Where(e => kinds.Contains(e.Kind)).OrderByDescending(e => e.LastUsed)];

    /// <summary>The bytes of the entries of the given kinds.</summary>
    public long SizeOf(params CacheEntryKind[] kinds) => Entries.Where(e => kinds.Contains(e.Kind)).Sum(e => e.Size);

    /// <summary>Everything <c>dbuild builder prune --all</c> may remove.</summary>
    public long CacheSize => Entries.Sum(e => e.Size);
}
