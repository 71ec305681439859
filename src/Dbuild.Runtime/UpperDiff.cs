using System.Runtime.Versioning;
using Dbuild.Oci.Layers;

namespace Dbuild.Runtime;

/// <summary>
/// Decides which entries of a changed tree go into the layer: everything new or different from the same path in the
/// layers below; files overlay copied up (or cp copied) whose content and metadata did not change are left out.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class UpperDiff
{
    /// <summary>True when <paramref name="upperPath"/> must go into the layer. <paramref name="lowers"/> are newest first.</summary>
    public static bool IsChanged(string upperRoot, string upperPath, IReadOnlyList<string> lowers)
    {
        string relative = Path.GetRelativePath(upperRoot, upperPath);
        Interop.FileStatus upper = Interop.LStat(upperPath);
        foreach (string lower in lowers)
        {
            string candidate = Path.Combine(lower, relative);
            if (Interop.TryLStat(candidate) is not { } status) { continue; }
            if (status.IsCharDevice && status.RdevMajor == 0 && status.RdevMinor == 0) { return true; } // deleted below, exists again
            return !SameMetadata(upperPath, upper, candidate, status);
        }
        return true;
    }

    private static bool SameMetadata(string upperPath, Interop.FileStatus upper, string lowerPath, Interop.FileStatus lower)
    {
        if (upper.Mode != lower.Mode || upper.Uid != lower.Uid || upper.Gid != lower.Gid) { return false; }
        if (upper.MtimeSeconds != lower.MtimeSeconds || upper.MtimeNanoseconds != lower.MtimeNanoseconds) { return false; }
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
