using Dbuild.Oci;

namespace Dbuild.Solver.Cache;

/// <summary>
/// Where the solver looks up and records op results by cache key. The local cache under the state root is one; a
/// cache shared through a registry (<c>--cache-from</c>/<c>--cache-to</c>) plugs in here too.
/// </summary>
internal interface IBuildCache
{
    /// <summary>Names the cache in miss reasons and logs (<c>local cache</c>, <c>127.0.0.1:5000/app:cache</c>).</summary>
    string Description { get; }

    /// <summary>The recorded result of the op with this key, or null (also when a blob it names is gone).</summary>
    Task<CacheRecord?> TryGetAsync(Digest key, CancellationToken cancellationToken);

    /// <summary>Records an op's result under its key.</summary>
    Task PutAsync(Digest key, CacheRecord record, CancellationToken cancellationToken);
}
