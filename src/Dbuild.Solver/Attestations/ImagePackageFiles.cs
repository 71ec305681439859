using Dbuild.Oci;
using Dbuild.Oci.Layers;

namespace Dbuild.Solver.Attestations;

/// <summary>
/// The few files of an image's merged filesystem an SBOM scan reads (package databases, os-release), read straight out
/// of the image's layer blobs in the store, in one streaming pass per layer: later layers win, whiteouts and opaque
/// directories remove what lower layers had, a symlink is followed once (Debian's <c>etc/os-release</c> points at
/// <c>../usr/lib/os-release</c>). Nothing is unpacked to disk.
/// </summary>
internal sealed class ImagePackageFiles
{
    private const int MaxFileBytes = 64 * 1024 * 1024;
    private readonly Dictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _links = new(StringComparer.Ordinal);

    /// <summary>The paths (cleaned, relative) of every file read, sorted.</summary>
    public IEnumerable<string> Paths => _files.Keys.Order(StringComparer.Ordinal);

    /// <summary>A file's bytes after following a symlink at <paramref name="path"/> once; null when the image lacks it.</summary>
    public byte[]? Read(string path)
    {
        if (_files.TryGetValue(path, out byte[]? content)) { return content; }
        if (!_links.TryGetValue(path, out string? target)) { return null; }
        string resolved = target.StartsWith('/') ? target.TrimStart('/') : Normalise(FsTree.Combine(FsTree.Parent(path), target));
        return _files.GetValueOrDefault(resolved);
    }

    /// <summary>The files below <paramref name="directory"/> (one level), by path.</summary>
    public IEnumerable<(string Path, byte[] Content)> ReadDirectory(string directory) =>
        _files.Where(f => FsTree.Parent(f.Key) == directory).OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => (f.Key, f.Value));

    /// <summary>Reads the files <paramref name="wanted"/> selects from <paramref name="layers"/> (base first).</summary>
    public static async Task<ImagePackageFiles> ReadAsync(ContentStore store, IReadOnlyList<Descriptor> layers, Func<string, bool> wanted,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(layers);
        var files = new ImagePackageFiles();
        foreach (Descriptor layer in layers)
        {
            var added = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            var links = new Dictionary<string, string>(StringComparer.Ordinal);
            var removed = new List<(string Path, bool Opaque)>();
            Stream blob = store.OpenBlob(layer.Digest);
            await using (blob.ConfigureAwait(false))
            {
                await foreach (LayerEntry entry in LayerReader.ReadAsync(blob, cancellationToken).ConfigureAwait(false))
                {
                    if (entry.IsOpaqueWhiteout) { removed.Add((FsTree.Parent(entry.Path), true)); }
                    else if (entry.IsWhiteout) { removed.Add((FsTree.Combine(FsTree.Parent(entry.Path), entry.Name[LayerEntry.WhiteoutPrefix.Length..]), false)); }
                    else if (!wanted(entry.Path))
                    {
                        // A file or link at a path hides what lower layers had there (a directory merges instead).
                        if (entry.Type != LayerEntryType.Directory) { removed.Add((entry.Path, false)); }
                    }
                    else if (entry.Type == LayerEntryType.File) { added[entry.Path] = await ReadAllAsync(entry, cancellationToken).ConfigureAwait(false); }
                    else if (entry.Type == LayerEntryType.HardLink && entry.LinkTarget is { } source && added.TryGetValue(source, out byte[]? same)) { added[entry.Path] = same; }
                    else if (entry.Type == LayerEntryType.Symlink && entry.LinkTarget is { } target) { links[entry.Path] = target; }
                }
            }
            files.Apply(removed, added, links);
        }
        return files;
    }

    /// <summary>A layer's whiteouts apply to the layers below it, then its own files land.</summary>
    private void Apply(List<(string Path, bool Opaque)> removed, Dictionary<string, byte[]> added, Dictionary<string, string> links)
    {
        foreach ((string path, bool opaque) in removed)
        {
            foreach (string key in _files.Keys.Concat(_links.Keys).Where(k => (!opaque && k == path) || IsBelow(k, path)).ToList())
            {
                _files.Remove(key);
                _links.Remove(key);
            }
        }
        foreach ((string path, byte[] content) in added) { _links.Remove(path); _files[path] = content; }
        foreach ((string path, string target) in links) { _files.Remove(path); _links[path] = target; }
    }

    private static bool IsBelow(string path, string directory) => directory.Length == 0 || path.StartsWith(directory + "/", StringComparison.Ordinal);

    private static async Task<byte[]> ReadAllAsync(LayerEntry entry, CancellationToken cancellationToken)
    {
        if (entry.Size > MaxFileBytes) { throw new InvalidDataException($"'{entry.Path}' is {entry.Size} bytes, more than a package database is expected to be ({MaxFileBytes})."); }
        byte[] content = new byte[entry.Size];
        await entry.OpenContent!().ReadExactlyAsync(content, cancellationToken).ConfigureAwait(false);
        return content;
    }

    private static string Normalise(string path)
    {
        var parts = new List<string>();
        foreach (string part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == "..") { if (parts.Count > 0) { parts.RemoveAt(parts.Count - 1); } }
            else if (part != ".") { parts.Add(part); }
        }
        return string.Join('/', parts);
    }
}
