using Dbuild.Oci;
using Dbuild.Oci.Locking;
using Dbuild.Solver.Cache;

namespace Dbuild.Solver.Store;

/// <summary>What <c>image prune</c> did: the lines docker prints, and the bytes of blobs deleted.</summary>
public sealed record ImagePruneResult(IReadOnlyList<ImageDeletion> Deletions, long Reclaimed);

/// <summary>
/// <c>dbuild image prune [-a] [--filter]</c>: removes the dangling images (with <c>all</c> every image: dbuild
/// has no containers to keep one in use) that pass the filter, then deletes the blobs that no image left in the store
/// and no build-cache record needs. A blob written since the earliest build still running on the state root started is
/// kept: that build may be about to name it.
/// </summary>
public sealed class ImagePruner(string stateRoot, LocalImages images)
{
    /// <summary>Prunes the images <paramref name="filter"/> selects, then the blobs nothing needs any more.</summary>
    public async Task<ImagePruneResult> PruneAsync(bool all, ImagePruneFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ContentStore store = images.Store;
        using FileLock prune = await StoreUse.ForPruningAsync(stateRoot, images.Waiting, cancellationToken).ConfigureAwait(false);
        var deletions = new List<ImageDeletion>();
        IReadOnlyList<(string Name, Descriptor Descriptor)> names = await store.ListNamesAsync(cancellationToken).ConfigureAwait(false);
        IEnumerable<LocalImage> candidates = (await images.ListAsync(cancellationToken).ConfigureAwait(false)).Where(i => all || filter.AllImages || i.Dangling);
        foreach (LocalImage image in candidates.DistinctBy(i => i.Manifest.Digest))
        {
            (_, ImageConfig config) = await images.ReadImageAsync(image.Manifest, cancellationToken).ConfigureAwait(false);
            if (!filter.Matches(config, image.Created)) { continue; }
            var tags = names.Where(n => n.Descriptor.Digest == image.Manifest.Digest).Select(n => n.Name).ToList();
            if (!await store.RemoveEntriesAsync(image.Manifest.Digest, tags, cancellationToken).ConfigureAwait(false)) { continue; } // renamed meanwhile
            deletions.AddRange(tags.Select(t => new ImageDeletion(ImageRemover.Familiar(t), null)));
            deletions.Add(new ImageDeletion(null, image.ImageId.ToString()));
        }
        return new ImagePruneResult(deletions, await SweepAsync(store, cancellationToken).ConfigureAwait(false));
    }

    private async Task<long> SweepAsync(ContentStore store, CancellationToken cancellationToken)
    {
        var keep = new HashSet<Digest>();
        foreach (Descriptor descriptor in (await store.ReadIndexAsync(cancellationToken).ConfigureAwait(false)).Manifests)
        {
            keep.UnionWith((await StoredImage.ReadAsync(store, descriptor, cancellationToken).ConfigureAwait(false)).StoredBlobs(store));
        }
        CacheRecordIndex records = await CacheRecordIndex.ReadAsync(stateRoot, cancellationToken).ConfigureAwait(false);
        DateTimeOffset? inUse = RunningBuilds.InUseSince(stateRoot);
        long freed = 0;
        foreach (Digest digest in store.EnumerateBlobs().ToList())
        {
            if (keep.Contains(digest) || records.ForBlob(digest).Count > 0) { continue; }
            string path = store.GetBlobPath(digest);
            if (inUse is { } since && File.GetLastWriteTimeUtc(path) >= since.UtcDateTime) { continue; }
            long size = store.GetSize(digest) ?? 0;
            if (store.DeleteBlob(digest)) { freed += size; }
        }
        return freed;
    }
}
