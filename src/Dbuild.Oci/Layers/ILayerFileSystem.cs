namespace Dbuild.Oci.Layers;

/// <summary>
/// The file operations layers need that the BCL lacks (lstat with owners and inodes, lchown, link, mknod, xattrs).
/// Dbuild.Oci is BCL-only and ships <see cref="BclLayerFileSystem"/> (owners, hard links and device nodes
/// unsupported or approximated); Dbuild.Runtime provides the complete Linux implementation.
/// </summary>
public interface ILayerFileSystem
{
    /// <summary>lstat: describes <paramref name="path"/> without following a final symlink.</summary>
    LayerFileStatus GetStatus(string path);

    /// <summary>The extended attributes of <paramref name="path"/> (not following symlinks); empty when none.</summary>
    IReadOnlyDictionary<string, byte[]> GetExtendedAttributes(string path);

    /// <summary>lchown: sets the numeric owner without following a symlink.</summary>
    void SetOwner(string path, int uid, int gid);

    /// <summary>Creates <paramref name="newPath"/> as a hard link to <paramref name="existingPath"/>.</summary>
    void CreateHardLink(string existingPath, string newPath);

    /// <summary>Creates a character device, block device or FIFO.</summary>
    void CreateSpecialFile(string path, LayerEntryType type, UnixFileMode mode, int major, int minor);

    /// <summary>lsetxattr: sets an extended attribute without following a symlink.</summary>
    void SetExtendedAttribute(string path, string name, ReadOnlySpan<byte> value);

    /// <summary>Sets the modification time without following a symlink.</summary>
    void SetModificationTime(string path, DateTimeOffset time);
}
