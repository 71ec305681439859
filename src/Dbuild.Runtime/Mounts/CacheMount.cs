namespace Dbuild.Runtime;

/// <summary>How concurrent steps share a cache mount (<c>sharing=</c>).</summary>
public enum CacheSharing
{
    /// <summary>All steps use the same directory at once.</summary>
    Shared,

    /// <summary>A step that finds the directory in use gets a fresh private one.</summary>
    Private,

    /// <summary>Steps wait for each other.</summary>
    Locked,
}

/// <summary><c>--mount=type=cache</c>: a persistent directory under the state root, kept between builds, never in a layer.</summary>
public sealed record CacheMount : StepMount
{
    /// <summary>The cache's identity (<c>id=</c>; BuildKit defaults it to the target).</summary>
    public required string Id { get; init; }

    /// <summary>Sharing mode.</summary>
    public CacheSharing Sharing { get; init; } = CacheSharing.Shared;

    /// <summary>Mode of the cache directory when first created.</summary>
    public UnixFileMode Mode { get; init; } = (UnixFileMode)0b111_101_101; // 0755

    /// <summary>Owner uid of the cache directory when first created.</summary>
    public int Uid { get; init; }

    /// <summary>Owner gid of the cache directory when first created.</summary>
    public int Gid { get; init; }

    /// <summary>Mount read-only.</summary>
    public bool ReadOnly { get; init; }

    /// <summary><c>from=</c>/<c>source=</c> seeding: a host directory copied into the cache when it is first created.</summary>
    public string? SeedDirectory { get; init; }
}
