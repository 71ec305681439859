using System.Globalization;
using Dbuild.Oci;
using Dbuild.Runtime;

namespace Dbuild.Solver.Cache;

/// <summary>
/// Measures a state root (<c>dbuild system df</c>, <c>dbuild builder prune</c>, the GC policy): the tagged images'
/// blobs, and the build cache's entries: blobs no tagged image reaches, snapshots, cache mounts and the cache's own
/// records. The exact scan measures like one <c>du -sb</c> over all of it (a file hard-linked into several snapshots
/// counted once, under the first); the quick scan (the GC's check after a build) reuses each snapshot's size measured
/// on its own (snapshots never change once made), which can only overstate the total.
/// </summary>
public static class CacheUsage
{
    /// <summary>Scans <paramref name="stateRoot"/>.</summary>
    public static async Task<CacheUsageReport> ScanAsync(string stateRoot, bool exact, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stateRoot);
        var store = ContentStore.ForStateRoot(stateRoot);
        var du = new DiskUsage();
        (int imageCount, HashSet<Digest> imageBlobs, HashSet<Digest> imageChains) = await TaggedImagesAsync(store, cancellationToken).ConfigureAwait(false);
        long imagesSize = imageBlobs.Sum(d => du.Measure(store.GetBlobPath(d)));
        CacheRecordIndex records = await CacheRecordIndex.ReadAsync(stateRoot, cancellationToken).ConfigureAwait(false);
        var entries = new List<CacheEntry>();
        foreach (Digest digest in store.EnumerateBlobs().Where(d => !imageBlobs.Contains(d)))
        {
            string path = store.GetBlobPath(digest);
            IReadOnlyList<string> pointing = records.ForBlob(digest);
            entries.Add(new CacheEntry(digest.ToString(), CacheEntryKind.Blob, du.Measure(path), Utc(records.LastUsed(pointing, File.GetLastWriteTimeUtc(path))))
            {
                Description = pointing.Count == 0 ? "blob no image or record uses" : "layer blob",
                Paths = [path],
                Records = pointing,
            });
        }
        var sizes = new SnapshotSizes(stateRoot);
        var exported = records.CompressedSnapshots.Where(c => imageBlobs.Contains(c.Key)).Select(c => c.Value).ToHashSet();
        foreach (string directory in RuntimeLayout.SnapshotDirectories(stateRoot).Where(Directory.Exists))
        {
            foreach (string path in Directory.EnumerateDirectories(directory).Where(p => RuntimeLayout.IsSnapshotName(Path.GetFileName(p))))
            {
                Digest? id = SnapshotId(path);
                IReadOnlyList<string> pointing = id is { } i ? records.ForSnapshot(i) : [];
                bool shared = id is { } s && (imageChains.Contains(s) || exported.Contains(s));
                entries.Add(new CacheEntry(id?.ToString() ?? Path.GetFileName(path), CacheEntryKind.Snapshot,
                    exact ? du.Measure(path) : sizes.Get(path), Utc(records.LastUsed(pointing, Directory.GetLastWriteTimeUtc(path))))
                {
                    Shared = shared,
                    Description = id is null ? "incomplete snapshot" : pointing.Count > 0 ? "step result" : shared ? "unpacked image layers" : "unpacked layers",
                    Paths = [path],
                    Records = [.. pointing, sizes.FileOf(path)],
                });
            }
        }
        string mounts = RuntimeLayout.CacheMountDirectory(stateRoot);
        if (Directory.Exists(mounts))
        {
            foreach (string path in Directory.EnumerateDirectories(mounts).Where(p => RuntimeLayout.IsCacheMountName(Path.GetFileName(p))))
            {
                entries.Add(new CacheEntry(Path.GetFileName(path), CacheEntryKind.CacheMount, du.Measure(path), Utc(Directory.GetLastWriteTimeUtc(path)))
                {
                    Description = "RUN --mount=type=cache",
                    Paths = [path],
                });
            }
        }
        string recordsDir = CacheRecordIndex.Directory(stateRoot);
        if (Directory.Exists(recordsDir))
        {
            DateTime newest = Directory.EnumerateFiles(recordsDir, "*", SearchOption.AllDirectories).Select(File.GetLastWriteTimeUtc).DefaultIfEmpty(Directory.GetLastWriteTimeUtc(recordsDir)).Max();
            entries.Add(new CacheEntry("buildcache", CacheEntryKind.Records, du.Measure(recordsDir), Utc(newest))
            {
                Description = "cache keys, miss reasons, context hashes",
                Paths = [recordsDir],
            });
        }
        return new CacheUsageReport(imageCount, imagesSize, entries);
    }

    /// <summary>The tagged images (distinct), the blobs they reach and the snapshot IDs of their unpacked layers.</summary>
    private static async Task<(int Count, HashSet<Digest> Blobs, HashSet<Digest> Chains)> TaggedImagesAsync(ContentStore store, CancellationToken cancellationToken)
    {
        var blobs = new HashSet<Digest>();
        var chains = new HashSet<Digest>();
        var tops = new HashSet<Digest>();
        foreach (Descriptor descriptor in (await store.ReadIndexAsync(cancellationToken).ConfigureAwait(false)).Manifests) // dangling images too
        {
            if (!tops.Add(descriptor.Digest)) { continue; }
            StoredImage stored = await StoredImage.ReadAsync(store, descriptor, cancellationToken).ConfigureAwait(false);
            blobs.UnionWith(stored.StoredBlobs(store));
            foreach (ImageManifest manifest in stored.Manifests.Select(m => m.Manifest).OfType<ImageManifest>().Where(m => store.Contains(m.Config.Digest)))
            {
                ImageConfig config = ImageConfig.Parse(await store.ReadBlobBytesAsync(manifest.Config.Digest, cancellationToken: cancellationToken).ConfigureAwait(false));
                chains.UnionWith(RuntimeLayout.ChainIds(config.RootFs.DiffIds));
            }
        }
        return (tops.Count, blobs, chains);
    }

    /// <summary>A complete snapshot's ID (its <c>chainid</c> file); null for a broken leftover.</summary>
    private static Digest? SnapshotId(string path)
    {
        try { return Digest.TryParse(File.ReadAllText(Path.Combine(path, "chainid")).Trim(), out Digest id) ? id : null; }
        catch (IOException) { return null; }
    }

    private static DateTimeOffset Utc(DateTime time) => new(DateTime.SpecifyKind(time, DateTimeKind.Utc));

    /// <summary>Each snapshot's size measured once and kept in <c>buildcache/sizes/&lt;name&gt;</c>: snapshots never change once made.</summary>
    private sealed class SnapshotSizes(string stateRoot)
    {
        private readonly string _dir = Path.Combine(CacheRecordIndex.Directory(stateRoot), "sizes");

        public string FileOf(string snapshot) => Path.Combine(_dir, Path.GetFileName(Path.GetDirectoryName(snapshot)) + "-" + Path.GetFileName(snapshot));

        public long Get(string snapshot)
        {
            string file = FileOf(snapshot);
            try
            {
                if (File.Exists(file) && long.TryParse(File.ReadAllText(file), NumberStyles.None, CultureInfo.InvariantCulture, out long known)) { return known; }
            }
            catch (IOException) { } // measured again below
            long size = DiskUsage.Of(snapshot);
            Directory.CreateDirectory(_dir);
            string temp = $"{file}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp"; // whole or absent for a concurrent reader
            File.WriteAllText(temp, size.ToString(CultureInfo.InvariantCulture));
            File.Move(temp, file, overwrite: true);
            return size;
        }
    }
}
