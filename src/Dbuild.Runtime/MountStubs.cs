using System.ComponentModel;
using System.Runtime.Versioning;

namespace Dbuild.Runtime;

/// <summary>
/// The files and directories the OCI runtime creates in the rootfs as mount points for /etc/hosts, /etc/resolv.conf
/// and the step's RUN <c>--mount</c> targets are not part of what the step did. This follows BuildKit's
/// <c>MountStubsCleaner</c> (executor/stubs.go) as of v0.11 with the recursive mode its LLB client always asks for
/// (<c>RemoveMountStubsRecursive</c>, dockerfile 1.5+): before the run, each of those paths that does not exist is
/// recorded, then its missing parents up to (not including) the root; after the run each recorded path, in that order,
/// is removed when it is still an empty directory or a zero-size non-directory and still resolves to the same place,
/// and its parent gets back the atime and mtime it had just before the removal (the removal leaves no trace; the
/// stub's creation does, as in BuildKit).
/// Only those destinations are ever recorded: the /dev, /proc and /sys the runtime creates for its default mounts stay
/// in the layer, as they do in every BuildKit version. (BuildKit 0.8 to 0.10, e.g. docker 20.10's, also keep directory
/// stubs and their parents: they removed only zero-size files.)
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class MountStubs
{
    private readonly string _rootfs;
    private readonly List<string> _paths;

    private MountStubs(string rootfs, List<string> paths) => (_rootfs, _paths) = (rootfs, paths);

    /// <summary>The host paths recorded, in removal order (a path may appear twice, as in BuildKit).</summary>
    internal IReadOnlyList<string> Paths => _paths;

    /// <summary>Records the mount destinations (container paths) that do not exist in <paramref name="rootfs"/> yet, and their missing parents.</summary>
    public static MountStubs Record(string rootfs, IEnumerable<string> destinations)
    {
        var paths = new List<string>();
        foreach (string destination in destinations)
        {
            string path = Path.TrimEndingDirectorySeparator(Path.GetFullPath("/" + destination));
            if (path == "/") { continue; }
            string host;
            try { host = RootPath.Resolve(rootfs, path); }
            catch (IOException) { continue; }
            while (IsMissing(host))
            {
                paths.Add(host);
                string parent = Path.GetDirectoryName(host)!;
                if (parent == host || parent == rootfs) { break; }
                host = parent;
            }
        }
        return new MountStubs(rootfs, paths);
    }

    /// <summary>
    /// Creates the missing mount points the way runc does (directories 0755, an empty file for a bind of a non-directory;
    /// missing parents 0755, all owned by root), so the layer does not depend on the runtime: crun would make /dev 01755.
    /// Only top-level default mounts are created (/dev/pts and the like live inside the runtime's own /dev); a destination
    /// the runtime cannot mount on is left to it to report.
    /// </summary>
    public static void CreateMountPoints(string rootfs, IEnumerable<SpecMount> mounts)
    {
        foreach (SpecMount mount in mounts)
        {
            try
            {
                string host = RootPath.Resolve(rootfs, mount.Destination);
                if (Interop.TryLStat(host) is not null) { continue; }
                bool file = mount.Type == "bind" && Interop.TryLStat(mount.Source) is { IsDirectory: false };
                string container = host.Length == rootfs.Length ? "/" : host[rootfs.Length..];
                if (!file)
                {
                    RootPath.CreateDirectories(rootfs, container, 0, 0);
                    continue;
                }
                RootPath.CreateDirectories(rootfs, Path.GetDirectoryName(container)!, 0, 0);
                using (File.Create(host)) { }
                File.SetUnixFileMode(host, (UnixFileMode)0x1ED); // 0755, as runc's O_CREAT with 0755 under umask 022
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or Win32Exception) { }
        }
    }

    /// <summary>Removes the stubs that are still empty; returns what could not be done (BuildKit logs those and goes on).</summary>
    public List<string> Remove()
    {
        var problems = new List<string>();
        foreach (string recorded in _paths)
        {
            try
            {
                // The step may have replaced a parent by a symlink: resolve again, inside the rootfs.
                string path = RootPath.Resolve(_rootfs, recorded[_rootfs.Length..]);
                if (Interop.TryLStat(path) is not { } status) { continue; }
                if (status.IsDirectory ? Directory.EnumerateFileSystemEntries(path).Any() : status.Size != 0) { continue; }
                string parent = Path.GetDirectoryName(path)!;
                if (!parent.StartsWith(_rootfs, StringComparison.Ordinal) || RootPath.Resolve(_rootfs, parent[_rootfs.Length..]) != parent) { continue; }
                Interop.FileStatus times = Interop.LStat(parent);
                try
                {
                    if (status.IsDirectory) { Directory.Delete(path); } else { File.Delete(path); }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { problems.Add($"removing mount stub {path}: {e.Message}"); }
                Interop.LUtimes(parent, times.AtimeSeconds, times.AtimeNanoseconds, times.MtimeSeconds, times.MtimeNanoseconds);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or Win32Exception)
            {
                problems.Add($"mount stub {recorded}: {e.Message}");
            }
        }
        return problems;
    }

    private static bool IsMissing(string path)
    {
        try { return Interop.TryLStat(path) is null; }
        catch (Win32Exception) { return false; } // BuildKit treats any error other than ENOENT/ENOTDIR as "exists"
    }
}
