using System.Collections.Concurrent;
using Dbuild.Oci;
using Dbuild.Registry.Client;
using Microsoft.Extensions.Logging;

namespace Dbuild.Solver.Cache;

/// <summary>
/// Blobs an imported cache names but the content store does not hold yet: where each one is (a registry repository or
/// an OCI layout directory). A cache hit only records the place; <see cref="EnsureAsync"/> downloads a blob the first
/// time a step must read it (a RUN unpacking it, a COPY reading its files), verified against its digest. A layer that
/// is only exported is never downloaded: the push mounts it from the cache's repository.
/// </summary>
internal sealed class LazyBlobs(ContentStore store, RegistryClient? client, ILogger logger)
{
    private readonly ConcurrentDictionary<Digest, BlobPlace> _places = new();
    private readonly ConcurrentDictionary<Digest, Lazy<Task>> _fetches = new();

    /// <summary>Remembers where a blob of an imported cache is (the first place named wins).</summary>
    public void Add(Descriptor blob, BlobPlace place)
    {
        if (!store.Contains(blob.Digest)) { _places.TryAdd(blob.Digest, place with { Blob = blob }); }
    }

    /// <summary>Where a blob not yet stored can be had, or null (stored, or not an imported cache's).</summary>
    public BlobPlace? PlaceOf(Digest digest) => !store.Contains(digest) && _places.TryGetValue(digest, out BlobPlace? place) ? place : null;

    /// <summary>The blob in the store, downloaded once if it is an imported cache's and not there yet.</summary>
    public Task EnsureAsync(Digest digest, CancellationToken cancellationToken)
    {
        if (store.Contains(digest) || !_places.TryGetValue(digest, out BlobPlace? place)) { return Task.CompletedTask; }
        Lazy<Task> fetch = _fetches.GetOrAdd(digest, _ => new Lazy<Task>(() => FetchAsync(place, cancellationToken)));
        if (fetch.Value.IsFaulted || fetch.Value.IsCanceled) { _fetches.TryRemove(digest, out _); } // the next reader tries again
        return fetch.Value;
    }

    /// <summary>
    /// For a push to <paramref name="registry"/>: the repository there that an imported cache's blob can be mounted from
    /// (the store need not hold it), or null once the blob is in the store (a cache on another registry or in a directory
    /// is downloaded first; a blob that is no imported cache's is the store's already).
    /// </summary>
    public async Task<string?> MountSourceAsync(Digest digest, string registry, CancellationToken cancellationToken)
    {
        if (PlaceOf(digest) is not { } place) { return null; }
        if (place.Repository is { } repository && repository.Registry == registry) { return repository.Repository; }
        await EnsureAsync(digest, cancellationToken).ConfigureAwait(false);
        return null;
    }

    /// <summary>Opens a blob of the store, fetching it first when an imported cache has it (<see cref="EnsureAsync"/>).</summary>
    public async Task<Stream> OpenAsync(Digest digest, CancellationToken cancellationToken)
    {
        await EnsureAsync(digest, cancellationToken).ConfigureAwait(false);
        return store.OpenBlob(digest);
    }

    private async Task FetchAsync(BlobPlace place, CancellationToken cancellationToken)
    {
        Descriptor blob = place.Blob!;
        Log.CacheBlobFetch(logger, blob.Digest.ToString(), place.ToString());
        Stream source = place.Layout is { } layout ? layout.OpenBlob(blob.Digest)
            : await (client ?? throw new BuildException($"Reading cache blob {blob.Digest} from {place} needs a registry client."))
                .OpenBlobAsync(place.Repository!.Registry, place.Repository.Repository, blob.Digest, blob.Size, cancellationToken).ConfigureAwait(false);
        await using (source.ConfigureAwait(false))
        {
            // Verified against the digest the cache named before it is stored: a cache can never smuggle in other bytes.
            await store.WriteBlobAsync(source, blob.MediaType, blob.Digest, blob.Size, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>Where an imported cache's blob is: a registry repository, or an OCI layout directory.</summary>
internal sealed record BlobPlace(Reference? Repository, ContentStore? Layout)
{
    public Descriptor? Blob { get; init; }

    public override string ToString() => Repository is { } r ? $"{r.Registry}/{r.Repository}" : Layout!.Root;
}
