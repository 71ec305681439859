using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Dbuild.Oci.Layers;

/// <summary>
/// Extracts a layer blob into a directory as containerd's archive.Apply does, and safely: the tar is read by the one
/// layer reader (<see cref="LayerReader.ReadEntriesAsync"/> says what it accepts and refuses), and every directory on
/// the way to an entry is resolved inside the root as if the root were <c>/</c> (a symlink to <c>/etc</c> leads to
/// <c>root/etc</c>, a <c>..</c> stops at the root), so no entry can write outside it. Symlinks are created as stored,
/// wherever they point. Device nodes are skipped when not allowed (rootless), as containerd skips them in a user namespace.
/// </summary>
public static class LayerExtractor
{
    private const int MaxSymlinkDepth = 40;
    private const int CopyBufferSize = 128 * 1024;

    /// <summary>Extracts <paramref name="blob"/> (gzip, zstd or plain tar) into <paramref name="root"/>, which is created if missing.</summary>
    public static async Task<LayerExtractResult> ExtractAsync(Stream blob, string root, LayerExtractOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentException.ThrowIfNullOrEmpty(root);
        options ??= new LayerExtractOptions();
        root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        Directory.CreateDirectory(root);
        var state = new ExtractState(root, options);

        (Stream tar, PrefixedReadStream? hashing, LayerCompression compression) =
            await LayerReader.OpenAsync(blob, leaveOpen: true, hashTar: true, cancellationToken).ConfigureAwait(false);
        int count = 0;
        Digest diffId;
        await using (tar.ConfigureAwait(false))
        {
            var reader = new LayerTarReader(tar);
            while (await reader.NextAsync(cancellationToken).ConfigureAwait(false) is { } next)
            {
                count++;
                await state.ExtractEntryAsync(next.Record.Name, next.Entry, next.Record.Data, cancellationToken).ConfigureAwait(false);
            }
            byte[] drain = new byte[16 * 1024];
            while (await tar.ReadAsync(drain, cancellationToken).ConfigureAwait(false) > 0) { }
            diffId = hashing!.GetDigest();
        }
        state.ApplyDirectoryMetadata();
        if (options.ExpectedDiffId is { } expected && expected != diffId) { throw new DigestMismatchException(expected, diffId); }
        return new LayerExtractResult { DiffId = diffId, Compression = compression, EntryCount = count, SkippedDeviceNodes = state.SkippedDeviceNodes };
    }

    private sealed class ExtractState(string root, LayerExtractOptions options)
    {
        private readonly ILayerFileSystem _fs = options.FileSystem ?? BclLayerFileSystem.Instance;
        private readonly HashSet<string> _written = new(StringComparer.Ordinal);
        /// <summary>Real directories (not symlinks) this extraction created or checked; cleared whenever anything is removed.</summary>
        private readonly HashSet<string> _knownDirectories = new(StringComparer.Ordinal);
        /// <summary>Directories this extraction created: they hold only what it has written since.</summary>
        private readonly HashSet<string> _createdDirectories = new(StringComparer.Ordinal);
        /// <summary>Directories' metadata, applied once everything is written (their last entry wins, as any duplicate does).</summary>
        private readonly OrderedDictionary<string, LayerEntry> _directories = new(StringComparer.Ordinal);

        public int SkippedDeviceNodes { get; private set; }

        public async Task ExtractEntryAsync(string rawName, LayerEntry entry, Stream? data, CancellationToken cancellationToken)
        {
            if (entry.Type is LayerEntryType.CharacterDevice or LayerEntryType.BlockDevice && !options.AllowDeviceNodes)
            {
                SkippedDeviceNodes++;
                return;
            }
            string[] components = entry.Path.Split('/');
            string name = components[^1];
            string parent = ResolveDirectory(rawName, components[..^1], create: true);
            string path = parent + "/" + name;

            if (entry.Type == LayerEntryType.File && name.StartsWith(LayerEntry.WhiteoutPrefix, StringComparison.Ordinal)
                && options.Whiteouts != WhiteoutHandling.Keep)
            {
                ApplyWhiteout(parent, name, entry);
                return;
            }

            // In a directory this extraction created, only what it wrote can exist: no need to look.
            LayerFileStatus? existing = _createdDirectories.Contains(parent) && !_written.Contains(path) ? null : TryStatus(path);
            bool keepDirectory = existing?.Type == LayerEntryType.Directory && entry.Type == LayerEntryType.Directory;
            if (existing is { } current && !keepDirectory)
            {
                Remove(path, current);
            }
            _written.Add(path);

            switch (entry.Type)
            {
                case LayerEntryType.Directory:
                    if (!keepDirectory)
                    {
                        Directory.CreateDirectory(path);
                        _createdDirectories.Add(path);
                    }
                    _knownDirectories.Add(path);
                    _directories[path] = entry;
                    return;
                case LayerEntryType.File:
                    await WriteFileAsync(path, data, cancellationToken).ConfigureAwait(false);
                    break;
                case LayerEntryType.Symlink:
                    string target = entry.LinkTarget ?? "";
                    if (target.Length == 0) { throw new UnsafeLayerEntryException(rawName, "symlink has an empty target"); }
                    File.CreateSymbolicLink(path, target);
                    break;
                case LayerEntryType.HardLink:
                    string[] linkComponents = (entry.LinkTarget ?? "").Split('/');
                    string linkPath = ResolveDirectory(rawName, linkComponents[..^1], create: false) + "/" + linkComponents[^1];
                    if (TryStatus(linkPath) is not { } linked || linked.Type == LayerEntryType.Directory)
                    {
                        throw new UnsafeLayerEntryException(rawName, $"hard link target '{entry.LinkTarget}' is not an existing file in the layer");
                    }
                    _fs.CreateHardLink(linkPath, path);
                    return; // a hard link shares its target's metadata
                case LayerEntryType.CharacterDevice or LayerEntryType.BlockDevice:
                    _fs.CreateSpecialFile(path, entry.Type, entry.Mode, entry.DeviceMajor, entry.DeviceMinor);
                    break;
                case LayerEntryType.Fifo:
                    _fs.CreateSpecialFile(path, entry.Type, entry.Mode, 0, 0);
                    break;
            }
            ApplyMetadata(path, entry);
        }

        /// <summary>
        /// Writes a file's content with plain positional writes on a handle opened without a share lock (a FileStream
        /// would take an flock and hop to the thread pool per write: most of the cost of unpacking many small files).
        /// </summary>
        private static async Task WriteFileAsync(string path, Stream? data, CancellationToken cancellationToken)
        {
            using SafeFileHandle handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            if (data is null) { return; }
            byte[] buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
            try
            {
                long offset = 0;
                int read;
                while ((read = await data.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    RandomAccess.Write(handle, buffer.AsSpan(0, read), offset);
                    offset += read;
                }
            }
            finally { ArrayPool<byte>.Shared.Return(buffer); }
        }

        public void ApplyDirectoryMetadata()
        {
            for (int i = _directories.Count - 1; i >= 0; i--)
            {
                (string path, LayerEntry entry) = _directories.GetAt(i);
                ApplyMetadata(path, entry);
            }
        }

        private void ApplyMetadata(string path, LayerEntry entry)
        {
            if (options.PreserveOwnership) { _fs.SetOwner(path, entry.Uid, entry.Gid); }
            if (entry.Type != LayerEntryType.Symlink && !OperatingSystem.IsWindows()) { File.SetUnixFileMode(path, entry.Mode); }
            if (entry.ExtendedAttributes is { } xattrs)
            {
                foreach ((string key, byte[] value) in xattrs) { _fs.SetExtendedAttribute(path, key, value); }
            }
            _fs.SetModificationTime(path, entry.ModificationTime);
        }

        private void ApplyWhiteout(string parent, string name, LayerEntry entry)
        {
            if (name == LayerEntry.OpaqueWhiteoutName)
            {
                if (options.Whiteouts == WhiteoutHandling.Overlay)
                {
                    _fs.SetExtendedAttribute(parent, options.OverlayOpaqueXattr, "y"u8);
                    return;
                }
                foreach (string child in Directory.EnumerateFileSystemEntries(parent))
                {
                    if (!_written.Contains(child) && TryStatus(child) is { } status) { Remove(child, status); }
                }
                return;
            }
            if (name.StartsWith(LayerEntry.WhiteoutPrefix + LayerEntry.WhiteoutPrefix, StringComparison.Ordinal)) { return; } // aufs metadata (.wh..wh.plnk)
            string hidden = parent + "/" + name[LayerEntry.WhiteoutPrefix.Length..];
            if (TryStatus(hidden) is { } existing) { Remove(hidden, existing); }
            if (options.Whiteouts == WhiteoutHandling.Overlay)
            {
                _fs.CreateSpecialFile(hidden, LayerEntryType.CharacterDevice, 0, 0, 0);
                if (options.PreserveOwnership) { _fs.SetOwner(hidden, entry.Uid, entry.Gid); }
                _written.Add(hidden);
            }
        }

        /// <summary>
        /// Resolves directory components as the kernel would inside a chroot at the root (continuity's fs.RootPath, which
        /// containerd uses): symlinks are followed, an absolute target starts again at the root, <c>..</c> stops at the
        /// root. Missing directories are created (mode 0755) when <paramref name="create"/> is set.
        /// </summary>
        private string ResolveDirectory(string rawName, string[] components, bool create)
        {
            var resolved = new List<string>();
            var pending = new Queue<string>(components);
            string current = root;
            int hops = 0;
            while (pending.TryDequeue(out string? part))
            {
                if (part is "" or ".") { continue; }
                if (part == "..")
                {
                    if (resolved.Count > 0) { resolved.RemoveAt(resolved.Count - 1); }
                    current = resolved.Count == 0 ? root : root + "/" + string.Join('/', resolved);
                    continue;
                }
                string next = current + "/" + part;
                if (!_knownDirectories.Contains(next))
                {
                    LayerFileStatus? status = _createdDirectories.Contains(current) && !_written.Contains(next) ? null : TryStatus(next);
                    if (status is null)
                    {
                        if (!create) { throw new UnsafeLayerEntryException(rawName, $"'{string.Join('/', resolved.Append(part))}' does not exist in the layer"); }
                        Directory.CreateDirectory(next);
                        _createdDirectories.Add(next);
                        _written.Add(next);
                    }
                    else if (status.Value.Type == LayerEntryType.Symlink)
                    {
                        if (++hops > MaxSymlinkDepth) { throw new UnsafeLayerEntryException(rawName, "too many levels of symlinks"); }
                        string target = new FileInfo(next).LinkTarget ?? "";
                        if (target.StartsWith('/')) { resolved.Clear(); }
                        pending = new Queue<string>(target.Split('/').Concat(pending));
                        current = resolved.Count == 0 ? root : root + "/" + string.Join('/', resolved);
                        continue;
                    }
                    else if (status.Value.Type != LayerEntryType.Directory)
                    {
                        throw new UnsafeLayerEntryException(rawName, $"'{string.Join('/', resolved.Append(part))}' is not a directory");
                    }
                    _knownDirectories.Add(next);
                }
                resolved.Add(part);
                current = next;
            }
            return current;
        }

        /// <summary>What is at <paramref name="path"/> itself (a symlink is not followed), from one lstat.</summary>
        private static LayerFileStatus? TryStatus(string path)
        {
            FileAttributes attributes = new FileInfo(path).Attributes;
            if ((int)attributes == -1) { return null; }
            LayerEntryType type = attributes.HasFlag(FileAttributes.ReparsePoint) ? LayerEntryType.Symlink
                : attributes.HasFlag(FileAttributes.Directory) ? LayerEntryType.Directory
                : LayerEntryType.File;
            return new LayerFileStatus { Type = type, Mode = 0 };
        }

        private void Remove(string path, LayerFileStatus status)
        {
            _knownDirectories.Clear();
            _createdDirectories.Clear();
            if (status.Type == LayerEntryType.Directory)
            {
                Directory.Delete(path, recursive: true);
                foreach (string gone in _directories.Keys.Where(k => k == path || k.StartsWith(path + "/", StringComparison.Ordinal)).ToList()) { _directories.Remove(gone); }
            }
            else { File.Delete(path); }
        }
    }
}
