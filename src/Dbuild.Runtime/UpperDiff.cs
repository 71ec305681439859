using System.Runtime.Versioning;
using Dbuild.Oci.Layers;

namespace Dbuild.Runtime;

/// <summary>
/// Decides which entries of a changed tree go into the layer: everything new or different from the same path in the
/// layers below; files overlay copied up (or cp copied) whose content and metadata did not change are left out, unless
/// the step hard-linked them: a file whose upper inode also has a name that is not the same file below (e.g. after
/// <c>ln /etc/group /x</c> overlay copies /etc/group up and both names share the new inode) stays in the layer, so
/// the scanner writes the names as one hard-link group. This is containerd's rule too (its walking differ reports an
/// unchanged file that has links, and the change writer emits it when a changed entry shares the inode), and what
/// BuildKit's layer holds. A file whose link count only dropped (a lower pair broken by copy-up) stays out, as there.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class UpperDiff(string upperRoot, IReadOnlyList<string> lowers)
{
    /// <summary>Upper-tree names per (device, inode) of non-directories with more than one link; built on first need.</summary>
    private Dictionary<(uint Major, uint Minor, ulong Inode), List<string>>? _links;

    /// <summary>Per upper inode: whether the step linked its names differently from the layers below.</summary>
    private readonly Dictionary<(uint Major, uint Minor, ulong Inode), bool> _relinked = [];

    /// <summary>True when <paramref name="upperPath"/> must go into the layer. The lowers are newest first.</summary>
    public bool IsChanged(string upperPath)
    {
        string relative = Path.GetRelativePath(upperRoot, upperPath);
        Interop.FileStatus upper = Interop.LStat(upperPath);
        if (FindBelow(relative) is not (string lowerPath, Interop.FileStatus lower)) { return true; }
        if (IsWhiteout(lower)) { return true; } // deleted below, exists again
        if (!SameMetadata(upperPath, upper, lowerPath, lower)) { return true; }
        return !upper.IsDirectory && upper.LinkCount > 1 && Relinked((upper.DeviceMajor, upper.DeviceMinor, upper.Inode));
    }

    /// <summary>
    /// True unless every upper name of the inode is, in the layers below, one and the same file: then the names were
    /// linked there already (cp -a of the parent tree keeps its hard links). Otherwise the step made a link, and every
    /// name has another name that was not its file below, so the whole group goes into the layer.
    /// </summary>
    private bool Relinked((uint, uint, ulong) inode)
    {
        if (_relinked.TryGetValue(inode, out bool known)) { return known; }
        _links ??= CollectLinks(upperRoot);
        bool relinked = false;
        (uint, uint, ulong)? shared = null;
        foreach (string name in _links.TryGetValue(inode, out List<string>? names) ? names : [])
        {
            if (FindBelow(name) is not (_, Interop.FileStatus below) || IsWhiteout(below)) { relinked = true; break; }
            (uint, uint, ulong) id = (below.DeviceMajor, below.DeviceMinor, below.Inode);
            if (shared is not null && shared != id) { relinked = true; break; }
            shared = id;
        }
        _relinked[inode] = relinked;
        return relinked;
    }

    private (string Path, Interop.FileStatus Status)? FindBelow(string relative)
    {
        foreach (string lower in lowers)
        {
            string candidate = Path.Combine(lower, relative);
            if (Interop.TryLStat(candidate) is { } status) { return (candidate, status); }
        }
        return null;
    }

    private static bool IsWhiteout(Interop.FileStatus status) => status.IsCharDevice && status.RdevMajor == 0 && status.RdevMinor == 0;

    private static Dictionary<(uint Major, uint Minor, ulong Inode), List<string>> CollectLinks(string root)
    {
        var links = new Dictionary<(uint, uint, ulong), List<string>>();
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = false, AttributesToSkip = 0 };
        foreach (string path in Directory.EnumerateFileSystemEntries(root, "*", options))
        {
            Interop.FileStatus status = Interop.LStat(path);
            // overlay links its whiteouts to one shared inode: those are deletions, never a hard-link group
            if (status.IsDirectory || status.LinkCount < 2 || IsWhiteout(status)) { continue; }
            (uint, uint, ulong) key = (status.DeviceMajor, status.DeviceMinor, status.Inode);
            if (!links.TryGetValue(key, out List<string>? names)) { links[key] = names = []; }
            names.Add(Path.GetRelativePath(root, path));
        }
        return links;
    }

    private static bool SameMetadata(string upperPath, Interop.FileStatus upper, string lowerPath, Interop.FileStatus lower)
    {
        if (upper.Mode != lower.Mode || upper.Uid != lower.Uid || upper.Gid != lower.Gid) { return false; }
        // A directory whose only change is its mtime is the same directory, as in BuildKit's differs (overlay upperdir
        // and continuity's walking differ both compare mode, owner and capabilities only for directories): creating and
        // removing a mount stub, or a touch, leaves no directory entry in the layer. It still goes in as the parent of
        // anything changed inside it.
        if (!upper.IsDirectory && (upper.MtimeSeconds != lower.MtimeSeconds || upper.MtimeNanoseconds != lower.MtimeNanoseconds)) { return false; }
        if (upper.IsRegular && upper.Size != lower.Size) { return false; }
        if ((upper.IsCharDevice || upper.IsBlockDevice) && (upper.RdevMajor != lower.RdevMajor || upper.RdevMinor != lower.RdevMinor)) { return false; }
        if (upper.IsSymlink && new FileInfo(upperPath).LinkTarget != new FileInfo(lowerPath).LinkTarget) { return false; }
        Dictionary<string, byte[]> a = UserXattrs(upperPath);
        Dictionary<string, byte[]> b = UserXattrs(lowerPath);
        return a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out byte[]? v) && v.AsSpan().SequenceEqual(kv.Value));
    }

    private static Dictionary<string, byte[]> UserXattrs(string path) =>
        LinuxLayerFileSystem.Instance.GetExtendedAttributes(path)
            .Where(kv => !kv.Key.StartsWith("trusted.overlay.", StringComparison.Ordinal) && !kv.Key.StartsWith("user.overlay.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

    /// <summary>
    /// For the copying snapshotter: adds whiteouts for what exists in <paramref name="parent"/> but not in
    /// <paramref name="tree"/>, plus the directories holding them (as overlay's upper dir would have them).
    /// </summary>
    public static void AddDeletions(List<LayerEntry> entries, string parent, string tree)
    {
        var deletions = new List<LayerEntry>();
        Walk(parent, tree, "", deletions);
        var present = new HashSet<string>(entries.Select(e => e.Path), StringComparer.Ordinal);
        foreach (LayerEntry whiteout in deletions)
        {
            string directory = whiteout.Path;
            while ((directory = directory[..Math.Max(0, directory.LastIndexOf('/'))]).Length > 0 && present.Add(directory))
            {
                LayerFileStatus status = LinuxLayerFileSystem.Instance.GetStatus(Path.Combine(tree, directory));
                IReadOnlyDictionary<string, byte[]> xattrs = LinuxLayerFileSystem.Instance.GetExtendedAttributes(Path.Combine(tree, directory));
                entries.Add(new LayerEntry
                {
                    Path = directory, Type = LayerEntryType.Directory, Mode = status.Mode, Uid = status.Uid, Gid = status.Gid,
                    ModificationTime = status.ModificationTime, ExtendedAttributes = xattrs.Count == 0 ? null : xattrs,
                });
            }
            entries.Add(whiteout);
        }
    }

    private static void Walk(string parent, string tree, string relative, List<LayerEntry> result)
    {
        string parentDir = relative.Length == 0 ? parent : Path.Combine(parent, relative);
        foreach (string child in Directory.EnumerateFileSystemEntries(parentDir))
        {
            string name = Path.GetFileName(child);
            string rel = relative.Length == 0 ? name : relative + "/" + name;
            Interop.FileStatus? now = Interop.TryLStat(Path.Combine(tree, rel));
            if (now is null)
            {
                result.Add(LayerEntry.Whiteout(rel));
                continue;
            }
            if (now.Value.IsDirectory && Interop.LStat(child).IsDirectory) { Walk(parent, tree, rel, result); }
        }
    }
}
