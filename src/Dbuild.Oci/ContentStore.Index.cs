namespace Dbuild.Oci;

public sealed partial class ContentStore
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The layout's index as it is on disk now.</summary>
    public async Task<ImageIndex> ReadIndexAsync(CancellationToken cancellationToken = default)
    {
        byte[] bytes = await File.ReadAllBytesAsync(Path.Combine(Root, IndexFileName), cancellationToken).ConfigureAwait(false);
        return ImageIndex.Parse(bytes);
    }

    /// <summary>Names in the index with what they point to, in index order.</summary>
    public async Task<IReadOnlyList<(string Name, Descriptor Descriptor)>> ListNamesAsync(CancellationToken cancellationToken = default)
    {
        ImageIndex index = await ReadIndexAsync(cancellationToken).ConfigureAwait(false);
        return [.. index.Manifests
            .Where(d => d.Annotations?.ContainsKey(RefNameAnnotation) == true)
            .Select(d => (d.Annotations![RefNameAnnotation], d))];
    }

    /// <summary>What a name points to, or null.</summary>
    public async Task<Descriptor?> ResolveAsync(string name, CancellationToken cancellationToken = default)
    {
        foreach ((string n, Descriptor d) in await ListNamesAsync(cancellationToken).ConfigureAwait(false))
        {
            if (n == name) { return d; }
        }
        return null;
    }

    /// <summary>Points <paramref name="name"/> at a manifest or index already in the store (replacing any previous target).</summary>
    public Task TagAsync(string name, Descriptor target, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(target);
        if (!Contains(target.Digest)) { throw new InvalidOperationException($"Cannot name {target.Digest} '{name}': the blob is not in the store."); }
        var annotations = new Dictionary<string, string>(target.Annotations ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [RefNameAnnotation] = name,
            [ImageNameAnnotation] = name,
        };
        Descriptor entry = target with { Annotations = annotations };
        return UpdateIndexAsync(manifests =>
        {
            manifests.RemoveAll(d => d.Annotations?.GetValueOrDefault(RefNameAnnotation) == name);
            manifests.Add(entry);
            return true;
        }, cancellationToken);
    }

    /// <summary>Removes a name; true when it existed.</summary>
    public async Task<bool> UntagAsync(string name, CancellationToken cancellationToken = default)
    {
        bool removed = false;
        await UpdateIndexAsync(manifests =>
        {
            removed = manifests.RemoveAll(d => d.Annotations?.GetValueOrDefault(RefNameAnnotation) == name) > 0;
            return removed;
        }, cancellationToken).ConfigureAwait(false);
        return removed;
    }

    /// <summary>Runs a read-modify-write of index.json under an exclusive lock shared by every process using this store.</summary>
    private async Task UpdateIndexAsync(Func<List<Descriptor>, bool> change, CancellationToken cancellationToken)
    {
        using FileStream lockFile = await AcquireLockAsync(Path.Combine(Root, IndexFileName + ".lock"), cancellationToken).ConfigureAwait(false);
        ImageIndex index = await ReadIndexAsync(cancellationToken).ConfigureAwait(false);
        var manifests = index.Manifests.ToList();
        if (!change(manifests)) { return; }
        WriteAtomically(Path.Combine(Root, IndexFileName), OciJson.Serialize(new ImageIndex(MediaTypes.OciIndex, manifests)));
    }

    /// <summary>Takes an exclusive, process-wide lock by opening <paramref name="path"/> with no sharing; retries until a minute passes.</summary>
    public static async Task<FileStream> AcquireLockAsync(string path, CancellationToken cancellationToken = default)
    {
        DateTime deadline = DateTime.UtcNow + LockTimeout;
        int delay = 5;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = Math.Min(delay * 2, 100);
            }
        }
    }
}
