using System.Runtime.Versioning;
using Dbuild.Oci.Layers;

namespace Dbuild.Runtime;

/// <summary>
/// The complete <see cref="ILayerFileSystem"/> on Linux: statx, lchown, link, mknod, xattrs and utimensat, none of
/// them following a final symlink. Use it with <see cref="LayerExtractor"/> and <see cref="DirectoryLayerScanner"/>
/// wherever owners, hard links, devices and xattrs matter (e.g. COPY layers in the solver).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class LinuxLayerFileSystem : ILayerFileSystem
{
    /// <summary>The shared instance.</summary>
    public static LinuxLayerFileSystem Instance { get; } = new();

    /// <inheritdoc />
    public LayerFileStatus GetStatus(string path)
    {
        Interop.FileStatus status = Interop.LStat(path);
        return ToLayerStatus(status);
    }

    internal static LayerFileStatus ToLayerStatus(Interop.FileStatus status)
    {
        LayerEntryType type = status.Type switch
        {
            0x4000 => LayerEntryType.Directory,
            0xA000 => LayerEntryType.Symlink,
            0x2000 => LayerEntryType.CharacterDevice,
            0x6000 => LayerEntryType.BlockDevice,
            0x1000 => LayerEntryType.Fifo,
            0x8000 => LayerEntryType.File,
            _ => throw new NotSupportedException($"File type 0{status.Type:o} (a socket?) cannot go into a layer."),
        };
        return new LayerFileStatus
        {
            Type = type,
            Mode = (UnixFileMode)(status.Mode & 0xFFF),
            Uid = (int)status.Uid,
            Gid = (int)status.Gid,
            Size = type == LayerEntryType.File ? (long)status.Size : 0,
            ModificationTime = DateTimeOffset.FromUnixTimeSeconds(status.MtimeSeconds).AddTicks(status.MtimeNanoseconds / 100),
            ChangeTime = DateTimeOffset.FromUnixTimeSeconds(status.CtimeSeconds).AddTicks(status.CtimeNanoseconds / 100),
            Device = ((ulong)status.DeviceMajor << 32) | status.DeviceMinor,
            Inode = status.Inode,
            LinkCount = status.LinkCount,
            DeviceMajor = (int)status.RdevMajor,
            DeviceMinor = (int)status.RdevMinor,
        };
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, byte[]> GetExtendedAttributes(string path)
    {
        List<string> names = Interop.LListXattr(path);
        var result = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (string name in names)
        {
            if (Interop.LGetXattr(path, name) is { } value) { result[name] = value; }
        }
        return result;
    }

    /// <inheritdoc />
    public void SetOwner(string path, int uid, int gid) => Interop.LChown(path, uid, gid);

    /// <inheritdoc />
    public void CreateHardLink(string existingPath, string newPath) => Interop.Link(existingPath, newPath);

    /// <inheritdoc />
    public void CreateSpecialFile(string path, LayerEntryType type, UnixFileMode mode, int major, int minor)
    {
        uint kind = type switch
        {
            LayerEntryType.CharacterDevice => 0x2000u,
            LayerEntryType.BlockDevice => 0x6000u,
            LayerEntryType.Fifo => 0x1000u,
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a special file"),
        };
        Interop.Mknod(path, kind | ((uint)mode & 0xFFF), (uint)major, (uint)minor);
    }

    /// <inheritdoc />
    public void SetExtendedAttribute(string path, string name, ReadOnlySpan<byte> value) => Interop.LSetXattr(path, name, value);

    /// <inheritdoc />
    public void SetModificationTime(string path, DateTimeOffset time)
    {
        long ticks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        Interop.LUtimes(path, Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long rest), rest * 100);
    }
}
