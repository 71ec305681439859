using Dbuild.Oci.Locking;

namespace Dbuild.Oci;

public sealed partial class ContentStore
{
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
            Descriptor? previous = manifests.FirstOrDefault(d => d.Annotations?.GetValueOrDefault(RefNameAnnotation) == name);
            manifests.RemoveAll(d => d.Annotations?.GetValueOrDefault(RefNameAnnotation) == name);
            manifests.RemoveAll(d => d.Digest == target.Digest && !IsNamed(d)); // a dangling image that gets a name is no longer dangling
            if (KeepsUntaggedImages && previous is not null && previous.Digest != target.Digest && !manifests.Any(d => d.Digest == previous.Digest))
            {
                manifests.Add(WithoutName(previous)); // docker: the image a moved tag leaves behind stays, as <none>:<none>
            }
            manifests.Add(entry);
            return true;
        }, cancellationToken);
    }

    /// <summary>Entries of the index that no name points at (dangling images), in index order.</summary>
    public async Task<IReadOnlyList<Descriptor>> ListUnnamedAsync(CancellationToken cancellationToken = default) =>
        [.. (await ReadIndexAsync(cancellationToken).ConfigureAwait(false)).Manifests.Where(d => !IsNamed(d))];

    /// <summary>
    /// Keeps <paramref name="target"/> in the index without a name (a dangling image) unless a name already points at it;
    /// true when it was added.
    /// </summary>
    public async Task<bool> AddUnnamedAsync(Descriptor target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (!Contains(target.Digest)) { throw new InvalidOperationException($"Cannot keep {target.Digest}: the blob is not in the store."); }
        bool added = false;
        await UpdateIndexAsync(manifests =>
        {
            added = !manifests.Any(d => d.Digest == target.Digest);
            if (added) { manifests.Add(WithoutName(target)); }
            return added;
        }, cancellationToken).ConfigureAwait(false);
        return added;
    }

    /// <summary>
    /// Removes every index entry (named or not) that points at <paramref name="digest"/>, only if the names pointing at
    /// it are exactly <paramref name="expectedNames"/> (another process may have tagged it meanwhile); returns whether it did.
    /// </summary>
    public async Task<bool> RemoveEntriesAsync(Digest digest, IReadOnlyCollection<string> expectedNames, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(expectedNames);
        bool removed = false;
        await UpdateIndexAsync(manifests =>
        {
            var names = manifests.Where(d => d.Digest == digest && IsNamed(d)).Select(d => d.Annotations![RefNameAnnotation]).ToHashSet(StringComparer.Ordinal);
            if (!names.SetEquals(expectedNames)) { return false; }
            removed = manifests.RemoveAll(d => d.Digest == digest) > 0;
            return removed;
        }, cancellationToken).ConfigureAwait(false);
        return removed;
    }

    private static bool IsNamed(Descriptor descriptor) => descriptor.Annotations?.ContainsKey(RefNameAnnotation) == true;

    private static Descriptor WithoutName(Descriptor descriptor)
    {
        if (descriptor.Annotations is not { } annotations) { return descriptor; }
        var kept = annotations.Where(a => a.Key is not RefNameAnnotation and not ImageNameAnnotation).ToDictionary(StringComparer.Ordinal);
        return descriptor with { Annotations = kept.Count == 0 ? null : kept };
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

    /// <summary>
    /// Runs a read-modify-write of index.json under an exclusive <see cref="FileLock"/> on <c>index.json.lock</c> that every
    /// process using this store takes; the new index replaces the old one by an atomic rename.
    /// </summary>
    private async Task UpdateIndexAsync(Func<List<Descriptor>, bool> change, CancellationToken cancellationToken)
    {
        using FileLock held = await FileLock.AcquireAsync(Path.Combine(Root, IndexFileName + ".lock"), FileLockMode.Exclusive, null, cancellationToken).ConfigureAwait(false);
        ImageIndex index = await ReadIndexAsync(cancellationToken).ConfigureAwait(false);
        var manifests = index.Manifests.ToList();
        if (!change(manifests)) { return; }
        WriteAtomically(Path.Combine(Root, IndexFileName), OciJson.Serialize(new ImageIndex(MediaTypes.OciIndex, manifests)));
    }
}
