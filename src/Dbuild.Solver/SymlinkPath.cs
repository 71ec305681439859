namespace Dbuild.Solver;

/// <summary>Resolving a path through symlinks inside a tree, as the kernel would in a chroot at its root.</summary>
internal static class SymlinkPath
{
    private const int MaxHops = 40;

    /// <summary>
    /// <paramref name="path"/> with every symlink in it followed (an absolute target starts again at the root, <c>..</c>
    /// stops at the root, at most 40 links); <paramref name="linkTarget"/> gives a resolved path's link target, or null.
    /// </summary>
    public static string Resolve(string path, Func<string, string?> linkTarget)
    {
        var resolved = new List<string>();
        var queue = new Queue<string>(path.Split('/', StringSplitOptions.RemoveEmptyEntries));
        int hops = 0;
        while (queue.Count > 0)
        {
            string part = queue.Dequeue();
            if (part == ".") { continue; }
            if (part == "..") { if (resolved.Count > 0) { resolved.RemoveAt(resolved.Count - 1); } continue; }
            resolved.Add(part);
            if (linkTarget(string.Join('/', resolved)) is { } target && hops++ < MaxHops)
            {
                resolved.RemoveAt(resolved.Count - 1);
                if (target.StartsWith('/')) { resolved.Clear(); }
                queue = new Queue<string>(target.Split('/', StringSplitOptions.RemoveEmptyEntries).Concat(queue));
            }
        }
        return string.Join('/', resolved);
    }
}
