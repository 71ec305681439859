using System.Globalization;
using System.Security.Cryptography;
using Dbuild.Oci.Layers;

namespace Dbuild.Testing;

/// <summary>What a path of an unpacked tree looks like, for comparing a reader's view with what a real tool extracted.</summary>
public sealed record FileView(LayerEntryType Type, UnixFileMode Mode, int Uid, int Gid, long Size, string? Sha256, string? LinkTarget,
    DateTimeOffset ModificationTime, int DeviceMajor, int DeviceMinor)
{
    /// <summary>A parent directory no entry described (created by whoever unpacked): only its type is compared.</summary>
    public bool Implicit { get; init; }
}

/// <summary>Trees of <see cref="FileView"/>: from a directory on disk, or from the entries a layer reader yields.</summary>
public static class TreeView
{
    /// <summary>Which fields <see cref="Differences"/> compares.</summary>
    [Flags]
    public enum Compare
    {
        /// <summary>Type, size, content and symlink target.</summary>
        Content = 0,
        /// <summary>Permission bits (with setuid, setgid, sticky).</summary>
        Mode = 1,
        /// <summary>Numeric owners.</summary>
        Owners = 2,
        /// <summary>Modification times (to 100 ns) of files and directories.</summary>
        Times = 4,
        /// <summary>Device numbers.</summary>
        Devices = 8,
        /// <summary>Everything.</summary>
        All = Mode | Owners | Times | Devices,
    }

    /// <summary>Every path below <paramref name="root"/> (lstat; owners and device numbers from find(1)), the root itself excluded.</summary>
    public static async Task<SortedDictionary<string, FileView>> FromDirectoryAsync(string root, CancellationToken cancellationToken)
    {
        ProcessResult found = (await ProcessRunner.RunAsync("find", [root, "-mindepth", "1", "-printf", "%P\\t%U\\t%G\\t%y\\n"], cancellationToken)).EnsureSuccess();
        var owners = new Dictionary<string, (int Uid, int Gid, char Type)>(StringComparer.Ordinal);
        foreach (string line in found.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] f = line.Split('\t');
            owners[f[0]] = (int.Parse(f[1], CultureInfo.InvariantCulture), int.Parse(f[2], CultureInfo.InvariantCulture), f[3][0]);
        }
        var tree = new SortedDictionary<string, FileView>(StringComparer.Ordinal);
        foreach (string path in owners.Keys)
        {
            string full = Path.Combine(root, path);
            var info = new FileInfo(full);
            (int uid, int gid, char kind) = owners[path];
            (int major, int minor) = (0, 0);
            LayerEntryType type = kind switch
            {
                'l' => LayerEntryType.Symlink,
                'd' => LayerEntryType.Directory,
                'c' => LayerEntryType.CharacterDevice,
                'b' => LayerEntryType.BlockDevice,
                'p' => LayerEntryType.Fifo,
                _ => LayerEntryType.File,
            };
            if (type is LayerEntryType.CharacterDevice or LayerEntryType.BlockDevice) { (major, minor) = await DeviceNumbersAsync(full, cancellationToken); }
            tree[path] = new FileView(type, type == LayerEntryType.Symlink ? 0 : info.UnixFileMode, uid, gid, type == LayerEntryType.File ? info.Length : 0,
                type == LayerEntryType.File ? Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(full))) : null, info.LinkTarget,
                new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero), major, minor);
        }
        return tree;
    }

    /// <summary>
    /// The tree the entries describe when unpacked in order (the last entry of a name wins, a non-directory replaces a
    /// directory and everything below it, a hard link shows its target's content); parents no entry names are implicit.
    /// </summary>
    public static async Task<SortedDictionary<string, FileView>> FromEntriesAsync(IAsyncEnumerable<LayerEntry> entries, CancellationToken cancellationToken)
    {
        var tree = new SortedDictionary<string, FileView>(StringComparer.Ordinal);
        await foreach (LayerEntry e in entries.WithCancellation(cancellationToken))
        {
            string? sha = null;
            if (e.Type == LayerEntryType.File && e.OpenContent is { } open)
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                byte[] buffer = new byte[64 * 1024];
                Stream data = open();
                int read;
                long total = 0;
                while ((read = await data.ReadAsync(buffer, cancellationToken)) > 0) { hash.AppendData(buffer, 0, read); total += read; }
                Assert.Equal(e.Size, total);
                sha = Convert.ToHexStringLower(hash.GetHashAndReset());
            }
            if (tree.TryGetValue(e.Path, out FileView? old) && old.Type == LayerEntryType.Directory && e.Type != LayerEntryType.Directory)
            {
                foreach (string below in tree.Keys.Where(k => k.StartsWith(e.Path + "/", StringComparison.Ordinal)).ToList()) { tree.Remove(below); }
            }
            for (int slash = e.Path.IndexOf('/'); slash >= 0; slash = e.Path.IndexOf('/', slash + 1))
            {
                tree.TryAdd(e.Path[..slash], new FileView(LayerEntryType.Directory, 0, 0, 0, 0, null, null, default, 0, 0) { Implicit = true });
            }
            tree[e.Path] = e.Type == LayerEntryType.HardLink
                ? tree[e.LinkTarget!]
                : new FileView(e.Type, e.Type == LayerEntryType.Symlink ? 0 : e.Mode, e.Uid, e.Gid, e.Size, sha, e.Type == LayerEntryType.Symlink ? e.LinkTarget : null,
                    e.ModificationTime, e.DeviceMajor, e.DeviceMinor);
        }
        return tree;
    }

    /// <summary>Marks the paths <paramref name="view"/> has as implicit parents implicit in <paramref name="tree"/> too (their times are the unpacker's).</summary>
    public static SortedDictionary<string, FileView> WithImplicitFrom(this SortedDictionary<string, FileView> tree, IReadOnlyDictionary<string, FileView> view)
    {
        foreach ((string path, FileView v) in view)
        {
            if (v.Implicit && tree.TryGetValue(path, out FileView? t)) { tree[path] = t with { Implicit = true }; }
        }
        return tree;
    }

    /// <summary>Human-readable differences (empty when the trees agree on <paramref name="compare"/>).</summary>
    public static List<string> Differences(IReadOnlyDictionary<string, FileView> expected, IReadOnlyDictionary<string, FileView> actual, Compare compare)
    {
        var problems = new List<string>();
        foreach (string path in expected.Keys.Union(actual.Keys).Order(StringComparer.Ordinal))
        {
            if (!expected.TryGetValue(path, out FileView? e)) { problems.Add($"{path}: unexpected {actual[path]}"); continue; }
            if (!actual.TryGetValue(path, out FileView? a)) { problems.Add($"{path}: missing, expected {e}"); continue; }
            if (e.Type != a.Type) { problems.Add($"{path}: type {a.Type}, expected {e.Type}"); continue; }
            if (e.Implicit || a.Implicit) { continue; }
            Check(path, "size", e.Size, a.Size, problems);
            Check(path, "content", e.Sha256, a.Sha256, problems);
            Check(path, "link", e.LinkTarget, a.LinkTarget, problems);
            if (compare.HasFlag(Compare.Mode)) { Check(path, "mode", e.Mode, a.Mode, problems); }
            if (compare.HasFlag(Compare.Owners)) { Check(path, "owner", (e.Uid, e.Gid), (a.Uid, a.Gid), problems); }
            if (compare.HasFlag(Compare.Times) && e.Type is LayerEntryType.File or LayerEntryType.Directory) { Check(path, "mtime", e.ModificationTime, a.ModificationTime, problems); }
            if (compare.HasFlag(Compare.Devices)) { Check(path, "device", (e.DeviceMajor, e.DeviceMinor), (a.DeviceMajor, a.DeviceMinor), problems); }
        }
        return problems;
    }

    private static void Check<T>(string path, string what, T expected, T actual, List<string> problems)
    {
        if (!EqualityComparer<T>.Default.Equals(expected, actual)) { problems.Add($"{path}: {what} {actual}, expected {expected}"); }
    }

    private static async Task<(int, int)> DeviceNumbersAsync(string path, CancellationToken cancellationToken)
    {
        string[] f = (await ProcessRunner.RunAsync("stat", ["-c", "%t %T", path], cancellationToken)).EnsureSuccess().StandardOutput.Trim().Split(' ');
        return (Convert.ToInt32(f[0], 16), Convert.ToInt32(f[1], 16));
    }
}
