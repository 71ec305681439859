using System.Runtime.Versioning;

namespace Dbuild.Runtime;

/// <summary>
/// Mount points the runtime has to create in the rootfs (e.g. /etc/hosts, a cache target) are not part of what the
/// step did: like BuildKit, remove them afterwards when still empty and restore their parent's mtime, so they never
/// reach the layer.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class MountStubs
{
    private readonly List<(string Path, string Parent, long Seconds, uint Nanoseconds, HashSet<string> Names)> _stubs = [];

    public static MountStubs Record(string rootfs, IEnumerable<string> destinations)
    {
        var stubs = new MountStubs();
        foreach (string destination in destinations.Distinct(StringComparer.Ordinal))
        {
            string sofar = "";
            foreach (string part in destination.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                string parentHost = RootPath.Resolve(rootfs, sofar.Length == 0 ? "/" : sofar);
                sofar += "/" + part;
                string host = RootPath.Resolve(rootfs, sofar);
                if (Interop.TryLStat(host) is not null) { continue; }
                if (Interop.TryLStat(parentHost) is { IsDirectory: true } parent && !stubs._stubs.Any(s => s.Path == host))
                {
                    stubs._stubs.Add((host, parentHost, parent.MtimeSeconds, parent.MtimeNanoseconds, Names(parentHost)));
                }
                break;
            }
        }
        return stubs;
    }

    public void Remove()
    {
        for (int i = _stubs.Count - 1; i >= 0; i--)
        {
            (string path, string parent, long seconds, uint nanoseconds, HashSet<string> before) = _stubs[i];
            if (Interop.TryLStat(path) is not { } status) { continue; }
            if (status.IsDirectory ? !IsEmptyTree(path) : !(status.IsRegular && status.Size == 0)) { continue; }
            if (status.IsDirectory) { Directory.Delete(path, recursive: true); } else { File.Delete(path); }
            // Only the stub touched the parent: give it its old mtime back. If the step changed the directory too, its
            // mtime is the step's, and stays.
            if (Interop.TryLStat(parent) is not null && Names(parent).SetEquals(before)) { Interop.LUtimes(parent, seconds, nanoseconds); }
        }
    }

    private static HashSet<string> Names(string directory) =>
        new(Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName)!, StringComparer.Ordinal);

    private static bool IsEmptyTree(string directory)
    {
        foreach (string child in Directory.EnumerateFileSystemEntries(directory))
        {
            Interop.FileStatus status = Interop.LStat(child);
            if (status.IsDirectory ? !IsEmptyTree(child) : !(status.IsRegular && status.Size == 0)) { return false; }
        }
        return true;
    }
}
