using System.Formats.Tar;
using System.Globalization;
using System.Security.Cryptography;
using Dbuild.Oci.Layers;

namespace Dbuild.IntegrationTests.Differential;

/// <summary>
/// The final file tree of an image: its layers applied in order in memory (whiteouts and opaque directories honoured,
/// hardlinks sharing one inode), described one line per path: type, mode with setuid/setgid/sticky, uid:gid, size,
/// content sha256, symlink target and hardlink group. Never mtimes.
/// </summary>
internal sealed class FileTree
{
    private readonly SortedDictionary<string, Node> _nodes = new(StringComparer.Ordinal);

    /// <summary>Per layer, what its tar holds: path → entry line (whiteouts and hardlinks named as such; unchanged directories left out).</summary>
    public List<SortedDictionary<string, string>> LayerEntries { get; } = [];

    private sealed class Inode
    {
        public required char Type { get; init; }
        public required int Mode { get; init; }
        public required int Uid { get; init; }
        public required int Gid { get; init; }
        public long Size { get; init; }
        public string? Sha256 { get; init; }
        public string? LinkTarget { get; init; }
        public string? Device { get; init; }
    }

    private sealed record Node(Inode Inode, int Layer);

    /// <summary>Applies one layer blob (gzip, zstd or plain tar).</summary>
    public async Task ApplyLayerAsync(Stream blob, int layerIndex, CancellationToken cancellationToken)
    {
        var entries = new SortedDictionary<string, string>(StringComparer.Ordinal);
        LayerEntries.Add(entries);
        await using Stream tar = new EndBlocksStream(await LayerReader.OpenDecompressedAsync(blob, leaveOpen: true, cancellationToken));
        await using var reader = new TarReader(tar, leaveOpen: true);
        while (await reader.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
        {
            string path = Normalize(entry.Name);
            if (path.Length == 0) { continue; } // the root itself
            string name = path[(path.LastIndexOf('/') + 1)..];
            string parent = path[..Math.Max(0, path.LastIndexOf('/'))];
            if (name == LayerEntry.OpaqueWhiteoutName)
            {
                entries["/" + path] = "opaque";
                foreach (string child in Descendants(parent).Where(c => _nodes[c].Layer < layerIndex).ToList()) { _nodes.Remove(child); }
                continue;
            }
            if (name.StartsWith(LayerEntry.WhiteoutPrefix, StringComparison.Ordinal))
            {
                entries["/" + path] = "whiteout";
                Remove(JoinPath(parent, name[LayerEntry.WhiteoutPrefix.Length..]));
                continue;
            }
            Inode inode;
            if (entry.EntryType == TarEntryType.HardLink)
            {
                string target = Normalize(entry.LinkName);
                inode = _nodes.TryGetValue(target, out Node? existing) ? existing.Inode
                    : throw new InvalidDataException($"hardlink '{path}' points at '{target}', which is not in the tree");
                entries["/" + path] = "hardlink to /" + target;
            }
            else
            {
                inode = await ReadInodeAsync(entry, cancellationToken);
                // A directory restated with the metadata it already had below is noise (BuildKit restates the parents
                // of what changed, and /etc after a RUN); only new or changed directories count.
                bool restated = inode.Type == 'd' && _nodes.TryGetValue(path, out Node? below) && Line(below.Inode) == Line(inode);
                if (!restated) { entries["/" + path] = Line(inode); }
            }
            if (_nodes.TryGetValue(path, out Node? old) && !(old.Inode.Type == 'd' && inode.Type == 'd')) { Remove(path); }
            EnsureParents(parent, layerIndex);
            _nodes[path] = new Node(inode, layerIndex);
        }
    }

    /// <summary>One line per path (sorted), e.g. <c>/etc/passwd f 0644 0:0 12 sha256:0123456789ab</c>.</summary>
    public SortedDictionary<string, string> Describe()
    {
        Dictionary<Inode, List<string>> groups = [];
        foreach ((string path, Node node) in _nodes)
        {
            if (node.Inode.Type == 'f')
            {
                if (!groups.TryGetValue(node.Inode, out List<string>? list)) { groups[node.Inode] = list = []; }
                list.Add("/" + path);
            }
        }
        var lines = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach ((string path, Node node) in _nodes)
        {
            Inode i = node.Inode;
            string line = Line(i);
            if (i.Type == 'f' && groups[i].Count > 1) { line += " hardlinks=" + string.Join(',', groups[i]); }
            lines["/" + path] = line;
        }
        return lines;
    }

    private static string Line(Inode i)
    {
        int mode = i.Type == 'l' ? 0x1FF : i.Mode; // a symlink's mode means nothing on Linux; tar writers differ
        string line = $"{i.Type} {Convert.ToString(mode, 8).PadLeft(4, '0')} {i.Uid}:{i.Gid}";
        return line + i.Type switch
        {
            'f' => $" {i.Size} sha256:{i.Sha256}",
            'l' => $" -> {i.LinkTarget}",
            'c' or 'b' => $" {i.Device}",
            _ => "",
        };
    }

    private static async Task<Inode> ReadInodeAsync(TarEntry entry, CancellationToken cancellationToken)
    {
        int mode = (int)entry.Mode & 0xFFF;
        char type = entry.EntryType switch
        {
            TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile => 'f',
            TarEntryType.Directory => 'd',
            TarEntryType.SymbolicLink => 'l',
            TarEntryType.CharacterDevice => 'c',
            TarEntryType.BlockDevice => 'b',
            TarEntryType.Fifo => 'p',
            _ => throw new InvalidDataException($"unexpected tar entry type {entry.EntryType} for '{entry.Name}'"),
        };
        string? sha = null;
        long size = 0;
        if (type == 'f')
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            if (entry.DataStream is { } data)
            {
                byte[] buffer = new byte[64 * 1024];
                int read;
                while ((read = await data.ReadAsync(buffer, cancellationToken)) > 0) { hash.AppendData(buffer, 0, read); size += read; }
            }
            sha = Convert.ToHexStringLower(hash.GetHashAndReset())[..12];
        }
        return new Inode
        {
            Type = type, Mode = mode, Uid = entry.Uid, Gid = entry.Gid, Size = size, Sha256 = sha,
            LinkTarget = type == 'l' ? entry.LinkName : null,
            Device = type is 'c' or 'b' && entry is PosixTarEntry posix
                ? string.Create(CultureInfo.InvariantCulture, $"{posix.DeviceMajor},{posix.DeviceMinor}") : null,
        };
    }

    private void EnsureParents(string directory, int layerIndex)
    {
        if (directory.Length == 0 || _nodes.ContainsKey(directory)) { return; }
        EnsureParents(directory[..Math.Max(0, directory.LastIndexOf('/'))], layerIndex);
        // A directory the tar never declared: what an extractor would create.
        _nodes[directory] = new Node(new Inode { Type = 'd', Mode = 0x1ED, Uid = 0, Gid = 0 }, layerIndex);
    }

    private void Remove(string path)
    {
        foreach (string child in Descendants(path).ToList()) { _nodes.Remove(child); }
        _nodes.Remove(path);
    }

    private IEnumerable<string> Descendants(string directory)
    {
        string prefix = directory.Length == 0 ? "" : directory + "/";
        return _nodes.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && k.Length > prefix.Length);
    }

    private static string JoinPath(string parent, string name) => parent.Length == 0 ? name : parent + "/" + name;

    private static string Normalize(string name)
    {
        while (name.StartsWith("./", StringComparison.Ordinal)) { name = name[2..]; }
        name = name.Trim('/');
        return name == "." ? "" : name;
    }
}
