using Dbuild.Oci.Layers;

namespace Dbuild.Solver;

/// <summary>Metadata of one path in a stage's merged filesystem.</summary>
internal sealed record FsNode(LayerEntryType Type, UnixFileMode Mode, int Uid, int Gid, string? LinkTarget, long Size, int Layer);

/// <summary>
/// A stage's merged filesystem as metadata only (layers applied in order, whiteouts honoured): enough to decide
/// COPY destination rules, keep existing directories' owners in new layers, and find /etc/passwd.
/// </summary>
internal sealed class FsTree
{
    private readonly Dictionary<string, FsNode> _nodes;

    public FsTree() => _nodes = new(StringComparer.Ordinal);

    private FsTree(Dictionary<string, FsNode> nodes) => _nodes = new(nodes, StringComparer.Ordinal);

    public FsTree Clone() => new(_nodes);

    public int Count => _nodes.Count;

    public IEnumerable<KeyValuePair<string, FsNode>> Nodes => _nodes;

    /// <summary>
    /// Applies one layer's entries: each lands where containerd unpacks it (its parent resolved through this tree's
    /// symlinks, missing parents created as 0755 root-owned directories); whiteouts delete, opaque markers empty a directory.
    /// </summary>
    public void Apply(IEnumerable<LayerEntry> entries, int layer)
    {
        var list = entries as IList<LayerEntry> ?? [.. entries];
        foreach (LayerEntry e in list.Where(e => e.IsOpaqueWhiteout))
        {
            RemoveBelow(Resolve(Parent(e.Path)));
        }
        foreach (LayerEntry e in list)
        {
            if (e.IsOpaqueWhiteout || e.Path.Length == 0) { continue; }
            string path = Place(e.Path, layer);
            if (e.IsWhiteout)
            {
                string target = Combine(Parent(path), e.Name[LayerEntry.WhiteoutPrefix.Length..]);
                _nodes.Remove(target);
                RemoveBelow(target);
                continue;
            }
            if (_nodes.TryGetValue(path, out FsNode? old) && old.Type == LayerEntryType.Directory && e.Type != LayerEntryType.Directory) { RemoveBelow(path); }
            _nodes[path] = new FsNode(e.Type, e.Mode, e.Uid, e.Gid, e.LinkTarget, e.Size, layer);
        }
    }

    private string Place(string entryPath, int layer)
    {
        string parent = Resolve(Parent(entryPath));
        string current = "";
        foreach (string part in parent.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            current = Combine(current, part);
            if (!_nodes.TryGetValue(current, out FsNode? node)) { _nodes[current] = new FsNode(LayerEntryType.Directory, (UnixFileMode)0b111_101_101, 0, 0, null, 0, layer); }
            else if (node.Type != LayerEntryType.Directory)
            {
                throw new InvalidDataException($"Layer entry '{entryPath}' would be unpacked below '{current}', which is not a directory.");
            }
        }
        return Combine(parent, entryPath[(entryPath.LastIndexOf('/') + 1)..]);
    }

    private void RemoveBelow(string dir)
    {
        string prefix = dir.Length == 0 ? "" : dir + "/";
        foreach (string key in _nodes.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && k.Length > prefix.Length).ToList()) { _nodes.Remove(key); }
    }

    public FsNode? Get(string path) => _nodes.GetValueOrDefault(path);

    /// <summary>Follows symlinks in every component (bounded), returning the resolved relative path.</summary>
    public string Resolve(string path)
    {
        string[] parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var resolved = new List<string>();
        int hops = 0;
        var queue = new Queue<string>(parts);
        while (queue.Count > 0)
        {
            string part = queue.Dequeue();
            if (part == ".") { continue; }
            if (part == "..") { if (resolved.Count > 0) { resolved.RemoveAt(resolved.Count - 1); } continue; }
            resolved.Add(part);
            string current = string.Join('/', resolved);
            if (_nodes.TryGetValue(current, out FsNode? node) && node.Type == LayerEntryType.Symlink && node.LinkTarget is { } target && hops++ < 40)
            {
                resolved.RemoveAt(resolved.Count - 1);
                if (target.StartsWith('/')) { resolved.Clear(); }
                var rest = new Queue<string>(target.Split('/', StringSplitOptions.RemoveEmptyEntries).Concat(queue));
                queue = rest;
            }
        }
        return string.Join('/', resolved);
    }

    public bool IsDirectory(string path)
    {
        string resolved = Resolve(path);
        return resolved.Length == 0 || _nodes.GetValueOrDefault(resolved)?.Type == LayerEntryType.Directory;
    }

    public static string Parent(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash < 0 ? "" : path[..slash];
    }

    public static string Combine(string dir, string name) => dir.Length == 0 ? name : name.Length == 0 ? dir : dir + "/" + name;
}
