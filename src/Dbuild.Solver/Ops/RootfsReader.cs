using System.Globalization;
using System.Text;
using Dbuild.Oci.Layers;
using Dbuild.Runtime;
using Dbuild.Solver.Graph;

namespace Dbuild.Solver.Ops;

/// <summary>
/// Reads a filesystem result without unpacking it: its merged metadata tree (from the layers' tar headers, or a kept
/// snapshot's directory), a small file's text (from the topmost layer holding it), and <c>user[:group]</c> resolved
/// against its /etc/passwd and /etc/group.
/// </summary>
internal static class RootfsReader
{
    private const int MaxAccountFileBytes = 16 * 1024 * 1024;

    /// <summary>The merged tree of every layer, base first.</summary>
    public static async Task<FsTree> BuildTreeAsync(SolveContext context, IReadOnlyList<ChainLayer> layers, CancellationToken cancellationToken)
    {
        var tree = new FsTree();
        for (int i = 0; i < layers.Count; i++) { await ApplyLayerAsync(context, tree, layers[i], i, cancellationToken).ConfigureAwait(false); }
        return tree;
    }

    /// <summary>Applies one layer's entries (whiteouts included) to <paramref name="tree"/> as layer number <paramref name="index"/>.</summary>
    public static async Task ApplyLayerAsync(SolveContext context, FsTree tree, ChainLayer layer, int index, CancellationToken cancellationToken)
    {
        if (layer.Snapshot is { } id)
        {
            string directory = SnapshotDirectory(context, id);
            tree.Apply(DirectoryLayerScanner.Scan(directory, new DirectoryScanOptions { FileSystem = LinuxLayerFileSystem.Instance, OverlayWhiteouts = true }), index);
            return;
        }
        Stream blob = await context.Lazy.OpenAsync(layer.Blob!.Blob.Digest, cancellationToken).ConfigureAwait(false);
        await using (blob.ConfigureAwait(false))
        {
            var entries = new List<LayerEntry>();
            await foreach (LayerEntry entry in LayerReader.ReadEntriesAsync(blob, cancellationToken).ConfigureAwait(false)) { entries.Add(entry); }
            tree.Apply(entries, index);
        }
    }

    private static string SnapshotDirectory(SolveContext context, Oci.Digest id) =>
        context.Executor?.SnapshotDirectory(id) ?? throw new BuildException($"The snapshot {id} of an earlier step is no longer stored; build again.");

    /// <summary>A small file's text from the topmost layer holding it, or null when it is not a file there.</summary>
    public static async Task<string?> ReadFileAsync(SolveContext context, OpResult rootfs, string path, CancellationToken cancellationToken)
    {
        FsTree tree = await rootfs.TreeAsync(cancellationToken).ConfigureAwait(false);
        string resolved = tree.Resolve(path);
        if (tree.Get(resolved) is not { Type: LayerEntryType.File } node) { return null; }
        ChainLayer layer = rootfs.Layers[node.Layer];
        if (layer.Snapshot is { } id)
        {
            string file = Path.Combine(SnapshotDirectory(context, id), resolved);
            return File.Exists(file) ? await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false) : null;
        }
        Stream blob = await context.Lazy.OpenAsync(layer.Blob!.Blob.Digest, cancellationToken).ConfigureAwait(false);
        await using (blob.ConfigureAwait(false))
        {
            byte[]? bytes = await LayerReader.ReadFileAsync(blob, resolved, MaxAccountFileBytes, cancellationToken).ConfigureAwait(false);
            return bytes is null ? null : Encoding.UTF8.GetString(bytes);
        }
    }

    /// <summary>Resolves <c>user[:group]</c> with the filesystem's /etc/passwd and /etc/group; a bare user takes its primary group.</summary>
    public static async Task<(int Uid, int Gid)> ResolveOwnerAsync(SolveContext context, OpResult rootfs, string chown, CancellationToken cancellationToken)
    {
        int colon = chown.IndexOf(':', StringComparison.Ordinal);
        string user = colon < 0 ? chown : chown[..colon];
        string? group = colon < 0 ? null : chown[(colon + 1)..];
        int? uid = int.TryParse(user, CultureInfo.InvariantCulture, out int u) ? u : null;
        int? gid = group is not null && int.TryParse(group, CultureInfo.InvariantCulture, out int g) ? g : null;
        int? primary = null;
        if (uid is null || group is null)
        {
            string? passwd = await ReadFileAsync(context, rootfs, "etc/passwd", cancellationToken).ConfigureAwait(false);
            foreach (string line in (passwd ?? "").Split('\n'))
            {
                string[] f = line.Split(':');
                if (f.Length < 4) { continue; }
                if (uid is null ? f[0] == user : f[2] == user)
                {
                    uid ??= int.Parse(f[2], CultureInfo.InvariantCulture);
                    primary = int.Parse(f[3], CultureInfo.InvariantCulture);
                    break;
                }
            }
            if (uid is null) { throw new BuildException($"unable to find user {user}: no matching entries in passwd file"); }
        }
        if (group is not null && gid is null)
        {
            string? groups = await ReadFileAsync(context, rootfs, "etc/group", cancellationToken).ConfigureAwait(false);
            foreach (string line in (groups ?? "").Split('\n'))
            {
                string[] f = line.Split(':');
                if (f.Length >= 3 && f[0] == group) { gid = int.Parse(f[2], CultureInfo.InvariantCulture); break; }
            }
            if (gid is null) { throw new BuildException($"unable to find group {group}: no matching entries in group file"); }
        }
        // Docker: a numeric user without a group gets the same numeric id as group; a named one its primary group.
        return (uid!.Value, gid ?? (int.TryParse(user, CultureInfo.InvariantCulture, out _) ? uid.Value : primary ?? uid.Value));
    }
}
