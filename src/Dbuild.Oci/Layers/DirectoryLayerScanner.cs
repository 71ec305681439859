namespace Dbuild.Oci.Layers;

/// <summary>
/// Walks a directory into layer entries: every file, directory, symlink, device and FIFO below the root (the root
/// itself is not an entry), hard links detected by inode, optional overlay whiteout conversion.
/// </summary>
public static class DirectoryLayerScanner
{
    private static readonly string[] OverlayXattrPrefixes = ["trusted.overlay.", "user.overlay."];

    /// <summary>Scans <paramref name="root"/>; entries are returned in ordinal path order, file contents opened lazily.</summary>
    public static IReadOnlyList<LayerEntry> Scan(string root, DirectoryScanOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        options ??= new DirectoryScanOptions();
        ILayerFileSystem fileSystem = options.FileSystem ?? BclLayerFileSystem.Instance;
        string prefix = options.PathPrefix.Trim('/');
        var entries = new List<LayerEntry>();
        var inodes = new List<(ulong Device, ulong Inode, int Index)>();
        ScanDirectory(Path.GetFullPath(root), prefix, fileSystem, options, entries, inodes);

        entries.Sort(static (a, b) => string.CompareOrdinal(a.Path, b.Path));
        if (inodes.Count > 0) { LinkHardLinks(entries, fileSystem, root, prefix); }
        return entries;
    }

    /// <returns>True when anything in this directory was kept.</returns>
    private static bool ScanDirectory(string directory, string relative, ILayerFileSystem fileSystem, DirectoryScanOptions options,
        List<LayerEntry> entries, List<(ulong, ulong, int)> inodes)
    {
        bool keptAny = false;
        var names = new List<string>();
        foreach (string child in Directory.EnumerateFileSystemEntries(directory)) { names.Add(Path.GetFileName(child)); }
        names.Sort(StringComparer.Ordinal);
        foreach (string name in names)
        {
            string fullPath = Path.Combine(directory, name);
            string path = relative.Length == 0 ? name : relative + "/" + name;
            LayerFileStatus status = fileSystem.GetStatus(fullPath);
            if (options.OverlayWhiteouts && status.Type == LayerEntryType.CharacterDevice && status.DeviceMajor == 0 && status.DeviceMinor == 0)
            {
                entries.Add(LayerEntry.Whiteout(path, status.ModificationTime));
                keptAny = true;
                continue;
            }

            IReadOnlyDictionary<string, byte[]> xattrs = fileSystem.GetExtendedAttributes(fullPath);
            bool opaque = false;
            if (options.OverlayWhiteouts && xattrs.Count > 0)
            {
                var kept = new Dictionary<string, byte[]>(StringComparer.Ordinal);
                foreach ((string key, byte[] value) in xattrs)
                {
                    if (IsOverlayXattr(key))
                    {
                        opaque |= key.EndsWith(".opaque", StringComparison.Ordinal) && value is [(byte)'y', ..];
                        continue;
                    }
                    kept[key] = value;
                }
                xattrs = kept;
            }

            var entry = new LayerEntry
            {
                Path = path,
                Type = status.Type,
                Mode = status.Mode,
                Uid = status.Uid,
                Gid = status.Gid,
                ModificationTime = status.ModificationTime,
                Size = status.Type == LayerEntryType.File ? status.Size : 0,
                LinkTarget = status.Type == LayerEntryType.Symlink ? new FileInfo(fullPath).LinkTarget : null,
                DeviceMajor = status.DeviceMajor,
                DeviceMinor = status.DeviceMinor,
                ExtendedAttributes = xattrs.Count == 0 ? null : xattrs,
                OpenContent = status.Type == LayerEntryType.File
                    ? () => new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan)
                    : null,
            };
            bool include = opaque || options.Include is null || options.Include(fullPath, entry);
            if (status.Type == LayerEntryType.Directory)
            {
                int before = entries.Count;
                if (opaque) { entries.Add(LayerEntry.OpaqueWhiteout(path, status.ModificationTime)); }
                bool childKept = ScanDirectory(fullPath, path, fileSystem, options, entries, inodes);
                if (include || (childKept && options.KeepParentsOfIncluded))
                {
                    entries.Insert(before, entry);
                    keptAny = true;
                }
                continue;
            }
            if (!include) { continue; }
            if (status.LinkCount > 1 && status.Inode != 0) { inodes.Add((status.Device, status.Inode, entries.Count)); }
            entries.Add(entry);
            keptAny = true;
        }
        return keptAny;
    }

    private static bool IsOverlayXattr(string key)
    {
        foreach (string prefix in OverlayXattrPrefixes)
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal)) { return true; }
        }
        return false;
    }

    /// <summary>Of the entries sharing an inode, the first in path order keeps the data; the rest become hard links to it.</summary>
    private static void LinkHardLinks(List<LayerEntry> entries, ILayerFileSystem fileSystem, string root, string prefix)
    {
        var first = new Dictionary<(ulong, ulong), string>();
        for (int i = 0; i < entries.Count; i++)
        {
            LayerEntry entry = entries[i];
            if (entry.Type is LayerEntryType.Directory or LayerEntryType.HardLink || entry.IsWhiteout) { continue; }
            string relative = prefix.Length == 0 ? entry.Path : entry.Path[(prefix.Length + 1)..];
            LayerFileStatus status = fileSystem.GetStatus(Path.Combine(root, relative));
            if (status.LinkCount <= 1 || status.Inode == 0) { continue; }
            if (first.TryGetValue((status.Device, status.Inode), out string? target))
            {
                entries[i] = entry with { Type = LayerEntryType.HardLink, LinkTarget = target, Size = 0, OpenContent = null };
            }
            else
            {
                first[(status.Device, status.Inode)] = entry.Path;
            }
        }
    }
}
