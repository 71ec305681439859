using Dbuild.Oci;
using Dbuild.Oci.Layers;

namespace Dbuild.Solver;

/// <summary>
/// Another stage's (or an image's) filesystem as COPY --from sees it, without unpacking it: the layers are merged in
/// memory (whiteouts applied, upper layers winning), and a file's bytes are read straight out of its uncompressed layer
/// tar in the store. Only compressed layers (pulled base images) are unpacked, into a temp dir and only below the paths
/// the COPY names. Owners, modes and times come from the layers.
/// </summary>
internal sealed class LayerIndexTree : SourceTree
{
    private static readonly SourceFile RootDirectory = new("", "", LayerEntryType.Directory, (UnixFileMode)0b111_101_101, 0, 0, 0, null, DateTimeOffset.UnixEpoch, 0);
    private readonly Dictionary<string, SourceFile> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _layerOf = new(StringComparer.Ordinal);
    private readonly string _description;
    private Dictionary<string, List<string>>? _children;
    private ulong _nextInode;

    private LayerIndexTree(string tempRoot, string description) : base(tempRoot) => _description = description;

    public override string Description => _description;

    /// <param name="store">Holds the layer blobs.</param>
    /// <param name="layers">The source's layers, base first.</param>
    /// <param name="wanted">Unpack compressed layers' files only below these cleaned paths ("" or a wildcard: everything).</param>
    /// <param name="tempDir">Where compressed layers' selected files go; created.</param>
    /// <param name="description">For error messages (<c>stage build</c>, <c>image alpine</c>).</param>
    /// <param name="cancellationToken">Cancels reading.</param>
    public static async Task<LayerIndexTree> BuildAsync(ContentStore store, IReadOnlyList<LayerRef> layers, IReadOnlyList<string> wanted, string tempDir,
        string description, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(tempDir);
        var tree = new LayerIndexTree(tempDir, description);
        bool everything = wanted.Any(p => p.Length == 0 || CopyGlob.HasWildcard(p));
        bool compressedWhole = false;
        for (int i = 0; i < layers.Count; i++)
        {
            string blobPath = store.GetBlobPath(layers[i].Blob.Digest);
            string dir = Path.Combine(tempDir, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            // A compressed layer unpacks whole: a wanted path may reach its files through a symlinked directory of the same
            // layer (srv -> var/srv), which only the merged tree resolves. (Builds that keep snapshots mount the chain instead.)
            var layer = new LayerFiles(dir, p => everything || compressedWhole || wanted.Any(w => IsWithin(p, w) || IsWithin(w, p)));
            var blob = new FileStream(blobPath, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.None);
            await using (blob.ConfigureAwait(false))
            {
                byte[] magic = new byte[4];
                int sniffed = await blob.ReadAtLeastAsync(magic, magic.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                blob.Position = 0;
                compressedWhole = LayerReader.DetectCompression(magic.AsSpan(0, sniffed)) != LayerCompression.None;
                if (!compressedWhole)
                {
                    // An uncompressed tar in the store: files are read in place, at their offset.
                    await foreach ((LayerEntry entry, long offset) in LayerReader.IndexAsync(blob, cancellationToken).ConfigureAwait(false))
                    {
                        layer.Add(entry, offset >= 0 ? ToSourceFile(entry, blobPath) with { DataOffset = offset } : null);
                    }
                }
                else
                {
                    await foreach (LayerEntry entry in LayerReader.ReadAsync(blob, cancellationToken).ConfigureAwait(false))
                    {
                        layer.Add(entry, layer.IsWanted(entry) ? await CopyOutAsync(entry, layer, cancellationToken).ConfigureAwait(false) : null);
                    }
                }
                await layer.ExtractMissingAsync(blob, cancellationToken).ConfigureAwait(false);
            }
            tree.Apply(layer.Entries, i);
        }
        tree.CountLinks();
        return tree;
    }

    /// <summary>Copies a wanted file's content out of a layer being read into the layer's temp dir.</summary>
    private static async Task<SourceFile> CopyOutAsync(LayerEntry entry, LayerFiles layer, CancellationToken cancellationToken)
    {
        string target = layer.NextTempFile();
        FileStream output = File.Create(target);
        await using (output.ConfigureAwait(false))
        {
            if (entry.OpenContent is { } open) { await open().CopyToAsync(output, cancellationToken).ConfigureAwait(false); }
        }
        return ToSourceFile(entry, target);
    }

    /// <summary>
    /// One layer's entries and where each regular file's bytes can be read. Files that are wanted but not readable
    /// (a sparse file in an uncompressed tar; the target of a wanted hard link that was not copied out) are copied out
    /// in a second pass over the blob.
    /// </summary>
    private sealed class LayerFiles(string dir, Func<string, bool> wanted)
    {
        private readonly Dictionary<string, int> _latestFile = new(StringComparer.Ordinal);
        private readonly SortedSet<int> _missing = [];
        private int _tempFiles;

        public List<(LayerEntry Entry, SourceFile? File)> Entries { get; } = [];

        public bool IsWanted(LayerEntry entry) => entry.Type == LayerEntryType.File && !entry.IsWhiteout && wanted(entry.Path);

        public string NextTempFile()
        {
            Directory.CreateDirectory(dir);
            return Path.Combine(dir, (_tempFiles++).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        public void Add(LayerEntry entry, SourceFile? file)
        {
            int index = Entries.Count;
            Entries.Add((entry, file));
            if (entry.Type == LayerEntryType.File)
            {
                _latestFile[entry.Path] = index;
                if (file is null && IsWanted(entry)) { _missing.Add(index); }
            }
            else if (entry.Type == LayerEntryType.HardLink && wanted(entry.Path) && entry.LinkTarget is { } target
                && _latestFile.TryGetValue(target, out int holder) && Entries[holder].File is null)
            {
                _missing.Add(holder);
            }
            if (entry.Type != LayerEntryType.File) { _latestFile.Remove(entry.Path); }
        }

        public async Task ExtractMissingAsync(FileStream blob, CancellationToken cancellationToken)
        {
            if (_missing.Count == 0) { return; }
            blob.Position = 0;
            int index = 0;
            await foreach (LayerEntry entry in LayerReader.ReadAsync(blob, cancellationToken).ConfigureAwait(false))
            {
                if (_missing.Contains(index)) { Entries[index] = (Entries[index].Entry, await CopyOutAsync(entry, this, cancellationToken).ConfigureAwait(false)); }
                if (++index > _missing.Max) { break; }
            }
        }
    }

    private static bool IsWithin(string path, string prefix) =>
        prefix.Length == 0 || path == prefix || path.StartsWith(prefix + "/", StringComparison.Ordinal);

    private static SourceFile ToSourceFile(LayerEntry entry, string fullPath) =>
        new(entry.Path, fullPath, entry.Type, entry.Mode, entry.Uid, entry.Gid, entry.Type == LayerEntryType.File ? entry.Size : 0, entry.LinkTarget,
            entry.ModificationTime, 0);

    /// <summary>Applies one layer over the lower ones, as <see cref="FsTree.Apply"/> does for metadata.</summary>
    private void Apply(List<(LayerEntry Entry, SourceFile? File)> entries, int layer)
    {
        foreach ((LayerEntry e, _) in entries.Where(e => e.Entry.IsOpaqueWhiteout))
        {
            string dir = ResolveDirectory(FsTree.Parent(e.Path));
            foreach (string below in Below(dir).Where(k => _layerOf[k] < layer).ToList()) { Remove(below); }
        }
        foreach ((LayerEntry e, SourceFile? file) in entries)
        {
            if (e.IsOpaqueWhiteout || e.Path.Length == 0) { continue; }
            if (e.Type is LayerEntryType.Fifo or LayerEntryType.CharacterDevice or LayerEntryType.BlockDevice) { continue; }
            string path = Place(e.Path, layer);
            if (e.IsWhiteout)
            {
                string hidden = FsTree.Combine(FsTree.Parent(path), e.Name[LayerEntry.WhiteoutPrefix.Length..]);
                Remove(hidden);
                foreach (string below in Below(hidden).ToList()) { Remove(below); }
                continue;
            }
            if (_nodes.TryGetValue(path, out SourceFile? old) && old.Type == LayerEntryType.Directory && e.Type != LayerEntryType.Directory)
            {
                foreach (string below in Below(path).ToList()) { Remove(below); }
            }
            SourceFile node;
            if (e.Type == LayerEntryType.HardLink)
            {
                // A hard link reads its target's bytes (as an independent file, like an unpacked copy would be); the reader
                // has checked that the target is an earlier entry of this layer. A link to a symlink is that symlink; links to
                // devices and FIFOs are left out with them.
                string? linked = e.LinkTarget is { } t ? FsTree.Combine(ResolveDirectory(FsTree.Parent(t)), Path.GetFileName(t)) : null;
                if (linked is null || !_nodes.TryGetValue(linked, out SourceFile? target) || target.Type is not (LayerEntryType.File or LayerEntryType.Symlink))
                {
                    continue;
                }
                node = target with { RelativePath = path }; // the same synthetic inode: COPY keeps the names linked, as BuildKit does
            }
            else
            {
                node = (file ?? ToSourceFile(e, "")) with { RelativePath = path };
                if (node.Type == LayerEntryType.File) { node = node with { Device = 1, Inode = ++_nextInode }; }
            }
            _nodes[path] = node;
            _layerOf[path] = layer;
        }
        _children = null;
    }

    /// <summary>Each file's link count: the names left sharing its inode once every layer is applied.</summary>
    private void CountLinks()
    {
        var counts = _nodes.Values.Where(n => n.Type == LayerEntryType.File && n.Inode != 0).GroupBy(n => n.Inode).ToDictionary(g => g.Key, g => g.Count());
        foreach (string path in _nodes.Keys.ToList())
        {
            SourceFile node = _nodes[path];
            if (node.Type == LayerEntryType.File && node.Inode != 0) { _nodes[path] = node with { LinkCount = counts[node.Inode] }; }
        }
    }

    /// <summary>
    /// Where an entry lands when the layer is unpacked, as containerd places it: its parent resolved through the tree's
    /// symlinks (inside the root), and missing parents created as 0755 root-owned directories.
    /// </summary>
    private string Place(string entryPath, int layer)
    {
        string parent = ResolveDirectory(FsTree.Parent(entryPath));
        string current = "";
        foreach (string part in parent.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            current = FsTree.Combine(current, part);
            if (!_nodes.TryGetValue(current, out SourceFile? node))
            {
                _nodes[current] = RootDirectory with { RelativePath = current };
                _layerOf[current] = layer;
            }
            else if (node.Type != LayerEntryType.Directory)
            {
                throw new InvalidDataException($"{_description}: layer entry '{entryPath}' would be unpacked below '{current}', which is not a directory.");
            }
        }
        return FsTree.Combine(parent, Path.GetFileName(entryPath));
    }

    private void Remove(string path)
    {
        _nodes.Remove(path);
        _layerOf.Remove(path);
    }

    private IEnumerable<string> Below(string dir)
    {
        string prefix = dir.Length == 0 ? "" : dir + "/";
        return _nodes.Keys.Where(k => k.Length > prefix.Length && k.StartsWith(prefix, StringComparison.Ordinal));
    }

    /// <summary>lstat: symlinks in the leading components are followed (within the tree), the last one is not.</summary>
    public override SourceFile? Stat(string relativePath)
    {
        if (relativePath.Length == 0) { return RootDirectory; }
        string resolved = FsTree.Combine(ResolveDirectory(FsTree.Parent(relativePath)), Path.GetFileName(relativePath));
        return _nodes.TryGetValue(resolved, out SourceFile? node) ? node with { RelativePath = relativePath } : null;
    }

    protected override IEnumerable<string>? ChildNames(string relativeDirectory)
    {
        _children ??= _nodes.Keys.GroupBy(FsTree.Parent, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);
        string resolved = relativeDirectory.Length == 0 ? "" : ResolveDirectory(relativeDirectory);
        if (resolved.Length > 0 && (!_nodes.TryGetValue(resolved, out SourceFile? dir) || dir.Type != LayerEntryType.Directory)) { return null; }
        return _children.TryGetValue(resolved, out List<string>? names) ? names : [];
    }

    /// <summary>Follows symlinks through every component of a directory path (bounded, never above the root).</summary>
    private string ResolveDirectory(string path) =>
        SymlinkPath.Resolve(path, p => _nodes.TryGetValue(p, out SourceFile? node) && node.Type == LayerEntryType.Symlink ? node.LinkTarget : null);
}
