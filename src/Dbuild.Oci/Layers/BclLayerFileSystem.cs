using System.Formats.Tar;

namespace Dbuild.Oci.Layers;

/// <summary>
/// The portable <see cref="ILayerFileSystem"/>: no owners (reported as 0, set as a no-op), no inode numbers (so no
/// hard-link detection when scanning; links are created as copies), extended attributes neither read nor written.
/// Device nodes and FIFOs are created through System.Formats.Tar (mknod needs root). Use Dbuild.Runtime's
/// Linux implementation where fidelity matters.
/// </summary>
public sealed class BclLayerFileSystem : ILayerFileSystem
{
    /// <summary>The shared instance.</summary>
    public static BclLayerFileSystem Instance { get; } = new();

    /// <inheritdoc />
    public LayerFileStatus GetStatus(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists && !Directory.Exists(path) && info.LinkTarget is null) { throw new FileNotFoundException($"'{path}' does not exist.", path); }
        LayerEntryType type = info.LinkTarget is not null ? LayerEntryType.Symlink
            : info.Attributes.HasFlag(FileAttributes.Directory) ? LayerEntryType.Directory : LayerEntryType.File;
        return new LayerFileStatus
        {
            Type = type,
            Mode = type == LayerEntryType.Symlink ? (UnixFileMode)0x1FF : info.UnixFileMode,
            Size = type == LayerEntryType.File ? info.Length : 0,
            ModificationTime = new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero),
            LinkCount = 1,
        };
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, byte[]> GetExtendedAttributes(string path) => new Dictionary<string, byte[]>();

    /// <inheritdoc />
    public void SetOwner(string path, int uid, int gid) { }

    /// <inheritdoc />
    public void CreateHardLink(string existingPath, string newPath)
    {
        if (new FileInfo(existingPath).LinkTarget is { } target) { File.CreateSymbolicLink(newPath, target); } // a link to a symlink is that symlink
        else { File.Copy(existingPath, newPath); }
    }

    /// <inheritdoc />
    public void CreateSpecialFile(string path, LayerEntryType type, UnixFileMode mode, int major, int minor)
    {
        TarEntryType tarType = type switch
        {
            LayerEntryType.CharacterDevice => TarEntryType.CharacterDevice,
            LayerEntryType.BlockDevice => TarEntryType.BlockDevice,
            LayerEntryType.Fifo => TarEntryType.Fifo,
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a special file"),
        };
        var entry = new PaxTarEntry(tarType, Path.GetFileName(path)) { Mode = mode };
        if (type != LayerEntryType.Fifo)
        {
            entry.DeviceMajor = major;
            entry.DeviceMinor = minor;
        }
        entry.ExtractToFile(path, overwrite: false);
    }

    /// <inheritdoc />
    public void SetExtendedAttribute(string path, string name, ReadOnlySpan<byte> value) { }

    /// <inheritdoc />
    public void SetModificationTime(string path, DateTimeOffset time)
    {
        if (new FileInfo(path).LinkTarget is null) { File.SetLastWriteTimeUtc(path, time.UtcDateTime); }
    }
}
