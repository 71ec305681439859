using System.Runtime.Versioning;

namespace Dbuild.Runtime;

/// <summary>Resolves paths inside a container rootfs the way the kernel would inside a chroot, so symlinks in the image never lead to the host.</summary>
[SupportedOSPlatform("linux")]
internal static class RootPath
{
    private const int MaxDepth = 40;

    /// <summary>The host path for <paramref name="path"/> (absolute inside the rootfs), all symlinks resolved inside <paramref name="root"/>.</summary>
    public static string Resolve(string root, string path) => Combine(root, ResolveComponents(root, [], path, 0));

    /// <summary>Like <see cref="Resolve"/> but creates missing directories (mode 0755, owner <paramref name="uid"/>:<paramref name="gid"/>); returns the created ones, outermost first.</summary>
    public static List<string> CreateDirectories(string root, string path, int uid, int gid)
    {
        var created = new List<string>();
        var parts = new List<string>();
        foreach (string part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".") { continue; }
            if (part == "..") { if (parts.Count > 0) { parts.RemoveAt(parts.Count - 1); } continue; }
            List<string> resolved = ResolveComponents(root, [], string.Join('/', parts.Append(part)), 0);
            string host = Combine(root, resolved);
            if (Interop.TryLStat(host) is null)
            {
                Directory.CreateDirectory(host);
                File.SetUnixFileMode(host, (UnixFileMode)0x1ED);
                if (uid != 0 || gid != 0) { Interop.LChown(host, uid, gid); }
                created.Add(host);
            }
            parts = resolved;
        }
        return created;
    }

    private static string Combine(string root, List<string> parts) => parts.Count == 0 ? root : root + "/" + string.Join('/', parts);

    private static List<string> ResolveComponents(string root, List<string> start, string path, int depth)
    {
        var parts = path.StartsWith('/') ? [] : new List<string>(start);
        if (depth > MaxDepth) { throw new IOException($"Too many levels of symlinks resolving '{path}' in the rootfs."); }
        foreach (string part in path.Split('/'))
        {
            if (part is "" or ".") { continue; }
            if (part == "..")
            {
                if (parts.Count > 0) { parts.RemoveAt(parts.Count - 1); }
                continue;
            }
            string host = Combine(root, [.. parts, part]);
            if (new FileInfo(host).LinkTarget is { } link)
            {
                parts = ResolveComponents(root, parts, link, depth + 1);
                continue;
            }
            parts.Add(part);
        }
        return parts;
    }
}
