using Dbuild.Oci.Layers;
using Dbuild.Runtime;

namespace Dbuild.Solver.Ops;

/// <summary>
/// A stage's or image's merged filesystem, mounted read-only for COPY --from: owners, modes and hard links as the
/// kernel shows them. Symlinks in a path are followed inside the tree (an absolute target starts at the tree's root,
/// never the host's), so nothing outside the mount is ever read.
/// </summary>
internal sealed class MountedTree(string root, string description, IReadOnlyList<string> layerDirectories) : SourceTree(root)
{
    public override string Description => description;

    /// <summary>lstat: symlinks in the leading components are followed inside the tree, the last one is not.</summary>
    public override SourceFile? Stat(string relativePath)
    {
        string real = relativePath.Length == 0 ? "" : FsTree.Combine(ResolveDirectory(FsTree.Parent(relativePath)), Path.GetFileName(relativePath));
        SourceFile? file = StatWith(LinuxLayerFileSystem.Instance, Root, real, keepOwners: true);
        if (file is null) { return null; }
        return file.Type == LayerEntryType.File ? file with { RelativePath = relativePath, LinkSource = LayerFile(real, file) } : file with { RelativePath = relativePath };
    }

    /// <summary>
    /// The file in its own layer directory (the newest layer holding the path; overlay shows a lower file with that
    /// file's inode), when it has no xattrs to lose: a COPY may hard-link it there instead of copying its bytes.
    /// </summary>
    private string? LayerFile(string real, SourceFile merged)
    {
        foreach (string layer in layerDirectories)
        {
            string candidate = Path.Combine(layer, real);
            LayerFileStatus status;
            try { status = LinuxLayerFileSystem.Instance.GetStatus(candidate); }
            catch (Exception ex) when (ex is IOException or System.ComponentModel.Win32Exception) { continue; } // not in this layer
            bool same = status.Type == LayerEntryType.File && status.Inode == merged.Inode && status.Size == merged.Size;
            return same && LinuxLayerFileSystem.Instance.GetExtendedAttributes(candidate).Count == 0 ? candidate : null;
        }
        return null;
    }

    protected override IEnumerable<string>? ChildNames(string relativeDirectory) => base.ChildNames(ResolveDirectory(relativeDirectory));

    /// <summary>
    /// Snapshots never change once made, so a file's place in one names its bytes without reading them: its path in the
    /// snapshot's own directory (a snapshot's directory is never reused for other content: step snapshots carry a
    /// nonce, unpacked layers their chain ID). Hard-linking that file elsewhere (a COPY --from) changes its ctime, not
    /// this name, so a COPY --from re-run only because its parent changed reuses the layer it made. A file not found in
    /// a layer directory is named by inode, size and times (overlay shows a lower file with its own inode).
    /// </summary>
    public override ValueTask<string?> ContentIdAsync(SourceFile file, CancellationToken cancellationToken) =>
        ValueTask.FromResult<string?>(file.LinkSource is { } source ? "snapshot file " + source
            : file.Inode == 0 ? null
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"snapshot inode {file.Inode} {file.Size} {file.ModificationTime.UtcTicks} {file.ChangeTime.UtcTicks}"));

    /// <summary>The path with every symlink in it followed inside the tree (never above the root).</summary>
    private string ResolveDirectory(string path) => SymlinkPath.Resolve(path, p => new FileInfo(Path.Combine(Root, p)).LinkTarget);
}
