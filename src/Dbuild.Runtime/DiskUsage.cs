using System.Runtime.Versioning;

namespace Dbuild.Runtime;

/// <summary>
/// Measures trees the way <c>du -sb</c> (<c>du --apparent-size --bytes</c>) does: the apparent size (st_size) of every
/// directory, file and symlink, and a file with several hard links counted once, under the first path measured that
/// reaches it. One instance remembers the inodes it has seen, as one <c>du</c> run over several arguments does, so
/// sizes measured through it add up to the size of their union.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class DiskUsage
{
    private readonly HashSet<(uint Major, uint Minor, ulong Inode)> _seen = [];

    /// <summary>The bytes under <paramref name="path"/> (a file or a directory, not followed when a symlink) not counted before; 0 when it is gone.</summary>
    public long Measure(string path)
    {
        Interop.FileStatus? status = Interop.TryLStat(path);
        return status is { } s ? Count(path, s) : 0;
    }

    /// <summary>The size of one tree on its own, as <c>du -sb PATH</c> reports it.</summary>
    public static long Of(string path) => new DiskUsage().Measure(path);

    private long Count(string path, Interop.FileStatus status)
    {
        if (status.LinkCount > 1 && !status.IsDirectory && !_seen.Add((status.DeviceMajor, status.DeviceMinor, status.Inode))) { return 0; }
        long total = (long)status.Size;
        if (!status.IsDirectory) { return total; }
        IEnumerable<string> children;
        try { children = Directory.EnumerateFileSystemEntries(path).ToList(); }
        catch (DirectoryNotFoundException) { return total; } // removed while measured
        foreach (string child in children)
        {
            if (Interop.TryLStat(child) is { } s) { total += Count(child, s); }
        }
        return total;
    }
}
