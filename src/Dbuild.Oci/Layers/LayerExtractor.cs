using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Dbuild.Oci.Layers;

/// <summary>
/// Extracts a layer blob into a directory, safely: every path component is resolved inside the root, so no entry
/// can write outside it. Refused (with <see cref="UnsafeLayerEntryException"/>): absolute or <c>..</c> entry names,
/// writes through a symlink whose target is absolute or leaves the root, symlinks whose relative target climbs out of
/// the root, hard links to absent, absolute or <c>..</c> targets, and device nodes when not allowed.
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
            var reader = new TarStreamReader(tar);
            while (await reader.NextAsync(cancellationToken).ConfigureAwait(false) is { } next)
            {
                count++;
                LayerEntry entry = next.Entry;
                await state.ExtractEntryAsync(entry.Path, entry with { Path = LayerReader.TrimName(entry.Path) }, next.Data, cancellationToken).ConfigureAwait(false);
            }
            byte[] drain = new byte[16 * 1024];
            while (await tar.ReadAsync(drain, cancellationToken).ConfigureAwait(false) > 0) { }
            diffId = hashing!.GetDigest();
        }
        state.ApplyDirectoryMetadata();
        if (options.ExpectedDiffId is { } expected && expected != diffId) { throw new DigestMismatchException(expected, diffId); }
        return new LayerExtractResult { DiffId = diffId, Compression = compression, EntryCount = count };
    }

    private sealed class ExtractState(string root, LayerExtractOptions options)
    {
        private readonly ILayerFileSystem _fs = options.FileSystem ?? BclLayerFileSystem.Instance;
        private readonly HashSet<string> _written = new(StringComparer.Ordinal);
        /// <summary>Real directories (not symlinks) this extraction created or checked; cleared whenever anything is removed.</summary>
        private readonly HashSet<string> _knownDirectories = new(StringComparer.Ordinal);
        /// <summary>Directories this extraction created: they hold only what it has written since.</summary>
        private readonly HashSet<string> _createdDirectories = new(StringComparer.Ordinal);
        private readonly List<(string Path, LayerEntry Entry)> _directories = [];

        public async Task ExtractEntryAsync(string rawName, LayerEntry entry, Stream? data, CancellationToken cancellationToken)
        {
            List<string> components = SplitChecked(rawName, entry.Path, "entry name");
            if (components.Count == 0)
            {
                if (entry.Type == LayerEntryType.Directory) { _directories.Add((root, entry)); }
                return;
            }
            string name = components[^1];
            string parent = ResolveDirectory(rawName, components.GetRange(0, components.Count - 1), create: true, depth: 0);
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
                    _directories.Add((path, entry));
                    return;
                case LayerEntryType.File:
                    await WriteFileAsync(path, data, cancellationToken).ConfigureAwait(false);
                    break;
                case LayerEntryType.Symlink:
                    string target = entry.LinkTarget ?? "";
                    if (target.Length == 0) { throw new UnsafeLayerEntryException(rawName, "symlink has an empty target"); }
                    if (!target.StartsWith('/') && Resolve(components.GetRange(0, components.Count - 1), target, 0) is null)
                    {
                        throw new UnsafeLayerEntryException(rawName, $"symlink target '{target}' points outside the root");
                    }
                    File.CreateSymbolicLink(path, target);
                    break;
                case LayerEntryType.HardLink:
                    List<string> linkComponents = SplitChecked(rawName, entry.LinkTarget ?? "", "hard link target");
                    if (linkComponents.Count == 0) { throw new UnsafeLayerEntryException(rawName, "hard link to the root"); }
                    string linkParent = ResolveDirectory(rawName, linkComponents.GetRange(0, linkComponents.Count - 1), create: false, depth: 0);
                    string linkPath = linkParent + "/" + linkComponents[^1];
                    if (TryStatus(linkPath) is not { } linked || linked.Type == LayerEntryType.Directory)
                    {
                        throw new UnsafeLayerEntryException(rawName, $"hard link target '{entry.LinkTarget}' is not an existing file in the layer");
                    }
                    _fs.CreateHardLink(linkPath, path);
                    return; // a hard link shares its target's metadata
                case LayerEntryType.CharacterDevice or LayerEntryType.BlockDevice:
                    if (!options.AllowDeviceNodes) { throw new UnsafeLayerEntryException(rawName, "device nodes are not allowed here (rootless)"); }
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
            for (int i = _directories.Count - 1; i >= 0; i--) { ApplyMetadata(_directories[i].Path, _directories[i].Entry); }
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

        /// <summary>Resolves directory components below the root, following symlinks only while they stay inside it.</summary>
        private string ResolveDirectory(string rawName, List<string> components, bool create, int depth)
        {
            if (depth > MaxSymlinkDepth) { throw new UnsafeLayerEntryException(rawName, "too many levels of symlinks"); }
            string current = root;
            var resolved = new List<string>();
            for (int i = 0; i < components.Count; i++)
            {
                string next = current + "/" + components[i];
                if (_knownDirectories.Contains(next))
                {
                    resolved.Add(components[i]);
                    current = next;
                    continue;
                }
                LayerFileStatus? status = _createdDirectories.Contains(current) && !_written.Contains(next) ? null : TryStatus(next);
                if (status is null)
                {
                    if (!create) { throw new UnsafeLayerEntryException(rawName, $"'{string.Join('/', components)}' does not exist in the layer"); }
                    Directory.CreateDirectory(next);
                    _createdDirectories.Add(next);
                    _written.Add(next);
                }
                else if (status.Value.Type == LayerEntryType.Symlink)
                {
                    string target = new FileInfo(next).LinkTarget ?? "";
                    if (target.StartsWith('/')) { throw new UnsafeLayerEntryException(rawName, $"it would be written through the absolute symlink '{string.Join('/', resolved.Append(components[i]))}' -> '{target}'"); }
                    List<string> through = Resolve(resolved, target, depth + 1)
                        ?? throw new UnsafeLayerEntryException(rawName, $"it would be written through the symlink '{string.Join('/', resolved.Append(components[i]))}' -> '{target}', which leaves the root");
                    through.AddRange(components.Skip(i + 1));
                    return ResolveDirectory(rawName, through, create, depth + 1);
                }
                else if (status.Value.Type != LayerEntryType.Directory)
                {
                    throw new UnsafeLayerEntryException(rawName, $"'{string.Join('/', resolved.Append(components[i]))}' is not a directory");
                }
                _knownDirectories.Add(next);
                resolved.Add(components[i]);
                current = next;
            }
            return current;
        }

        /// <summary>
        /// Resolves <paramref name="target"/> as the kernel would inside a chroot at the root, seen from the directory
        /// <paramref name="directory"/>, following symlinks already extracted. Null when a <c>..</c> climbs above the root.
        /// </summary>
        private List<string>? Resolve(List<string> directory, string target, int depth)
        {
            if (depth > MaxSymlinkDepth) { return null; }
            var parts = target.StartsWith('/') ? [] : new List<string>(directory);
            foreach (string part in target.Split('/'))
            {
                if (part is "" or ".") { continue; }
                if (part == "..")
                {
                    if (parts.Count == 0) { return null; }
                    parts.RemoveAt(parts.Count - 1);
                    continue;
                }
                string path = root + "/" + string.Join('/', parts.Append(part));
                if (new FileInfo(path).LinkTarget is { } link)
                {
                    List<string>? expanded = Resolve(parts, link, depth + 1);
                    if (expanded is null) { return null; }
                    parts = expanded;
                    continue;
                }
                parts.Add(part);
            }
            return parts;
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
            if (status.Type == LayerEntryType.Directory) { Directory.Delete(path, recursive: true); }
            else { File.Delete(path); }
        }
    }

    /// <summary>Splits a tar name into components, refusing absolute names and <c>..</c>.</summary>
    private static List<string> SplitChecked(string rawName, string name, string what)
    {
        if (name.StartsWith('/')) { throw new UnsafeLayerEntryException(rawName, $"absolute {what} '{name}'"); }
        if (name.Contains('\0', StringComparison.Ordinal)) { throw new UnsafeLayerEntryException(rawName, $"NUL in {what}"); }
        var parts = new List<string>();
        foreach (string part in LayerReader.TrimName(name).Split('/'))
        {
            if (part is "" or ".") { continue; }
            if (part == "..") { throw new UnsafeLayerEntryException(rawName, $"'..' in {what} '{name}' escapes the root"); }
            parts.Add(part);
        }
        return parts;
    }
}
