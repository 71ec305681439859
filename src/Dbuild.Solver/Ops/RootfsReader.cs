using System.Formats.Tar;
using System.Globalization;
using Dbuild.Oci;
using Dbuild.Oci.Layers;
using Dbuild.Solver.Graph;

namespace Dbuild.Solver.Ops;

/// <summary>
/// Reads a filesystem result without unpacking it: its merged metadata tree (from the layers' tar headers), a small
/// file's text (from the topmost layer holding it), and <c>user[:group]</c> resolved against its /etc/passwd and /etc/group.
/// </summary>
internal static class RootfsReader
{
    /// <summary>The merged tree of every layer, base first.</summary>
    public static async Task<FsTree> BuildTreeAsync(ContentStore store, IReadOnlyList<LayerRef> layers, CancellationToken cancellationToken)
    {
        var tree = new FsTree();
        for (int i = 0; i < layers.Count; i++) { await ApplyLayerAsync(store, tree, layers[i], i, cancellationToken).ConfigureAwait(false); }
        return tree;
    }

    /// <summary>Applies one layer's entries (whiteouts included) to <paramref name="tree"/> as layer number <paramref name="index"/>.</summary>
    public static async Task ApplyLayerAsync(ContentStore store, FsTree tree, LayerRef layer, int index, CancellationToken cancellationToken)
    {
        Stream blob = store.OpenBlob(layer.Blob.Digest);
        await using (blob.ConfigureAwait(false))
        {
            var entries = new List<LayerEntry>();
            await foreach (LayerEntry entry in LayerReader.ReadEntriesAsync(blob, cancellationToken).ConfigureAwait(false)) { entries.Add(entry); }
            tree.Apply(entries, index);
        }
    }

    /// <summary>A small file's text from the topmost layer holding it, or null when it is not a file there.</summary>
    public static async Task<string?> ReadFileAsync(ContentStore store, OpResult rootfs, string path, CancellationToken cancellationToken)
    {
        FsTree tree = await rootfs.TreeAsync(cancellationToken).ConfigureAwait(false);
        string resolved = tree.Resolve(path);
        if (tree.Get(resolved) is not { Type: LayerEntryType.File } node) { return null; }
        Stream blob = store.OpenBlob(rootfs.Layers[node.Layer].Blob.Digest);
        await using (blob.ConfigureAwait(false))
        {
            Stream tar = await LayerReader.OpenDecompressedAsync(blob, cancellationToken: cancellationToken).ConfigureAwait(false);
            await using (tar.ConfigureAwait(false))
            {
                using var reader = new TarReader(tar);
                while (await reader.GetNextEntryAsync(cancellationToken: cancellationToken).ConfigureAwait(false) is { } entry)
                {
                    string name = entry.Name.TrimStart('.', '/').TrimEnd('/');
                    if (name == resolved && entry.DataStream is { } data)
                    {
                        using var text = new StreamReader(data);
                        return await text.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }
        return null;
    }

    /// <summary>Resolves <c>user[:group]</c> with the filesystem's /etc/passwd and /etc/group; a bare user takes its primary group.</summary>
    public static async Task<(int Uid, int Gid)> ResolveOwnerAsync(ContentStore store, OpResult rootfs, string chown, CancellationToken cancellationToken)
    {
        int colon = chown.IndexOf(':', StringComparison.Ordinal);
        string user = colon < 0 ? chown : chown[..colon];
        string? group = colon < 0 ? null : chown[(colon + 1)..];
        int? uid = int.TryParse(user, CultureInfo.InvariantCulture, out int u) ? u : null;
        int? gid = group is not null && int.TryParse(group, CultureInfo.InvariantCulture, out int g) ? g : null;
        int? primary = null;
        if (uid is null || group is null)
        {
            string? passwd = await ReadFileAsync(store, rootfs, "etc/passwd", cancellationToken).ConfigureAwait(false);
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
            string? groups = await ReadFileAsync(store, rootfs, "etc/group", cancellationToken).ConfigureAwait(false);
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
