namespace Dbuild.Solver.Cache;

/// <summary>What a build cache entry holds.</summary>
public enum CacheEntryKind
{
    /// <summary>A blob of the content store that no tagged image reaches (a step's layer, a compressed snapshot).</summary>
    Blob,

    /// <summary>An unpacked layer or a step's result under <c>runtime/snapshots</c>.</summary>
    Snapshot,

    /// <summary>A <c>RUN --mount=type=cache</c> directory under <c>runtime/cache</c>.</summary>
    CacheMount,

    /// <summary>The cache's own records under <c>buildcache/</c> (keys, miss reasons, context hashes): BuildKit's internal records.</summary>
    Records,
}

/// <summary>
/// One entry of the build cache, as <c>dbuild system df -v</c> lists it and <c>dbuild builder prune</c> removes it: its
/// size (<c>du -sb</c>: apparent bytes, a hard-linked file counted once), its last use, and what deleting it removes.
/// </summary>
public sealed record CacheEntry(string Id, CacheEntryKind Kind, long Size, DateTimeOffset LastUsed)
{
    /// <summary>
    /// The unpacked form of a tagged image's layers (or a step result whose layer a tagged image has): BuildKit's
    /// "shared" records, kept by a prune without <c>--all</c>.
    /// </summary>
    public bool Shared { get; init; }

    /// <summary>BuildKit's record type: <c>regular</c>, <c>exec.cachemount</c> or <c>internal</c>.</summary>
    public string RecordType => Kind switch
    {
        CacheEntryKind.CacheMount => "exec.cachemount",
        CacheEntryKind.Records => "internal",
        _ => "regular",
    };

    /// <summary>What the entry is, for listings.</summary>
    public string Description { get; init; } = "";

    /// <summary>Files and directories that are the entry's storage.</summary>
    public IReadOnlyList<string> Paths { get; init; } = [];

    /// <summary>Record files pointing at the entry, deleted with it (first, so no record names a missing entry).</summary>
    public IReadOnlyList<string> Records { get; init; } = [];
}
