namespace Dbuild.Oci.Layers;

/// <summary>What <c>lstat(2)</c> says about a path, as far as layers care.</summary>
public readonly record struct LayerFileStatus
{
    /// <summary>The kind of file (a symlink is not followed).</summary>
    public required LayerEntryType Type { get; init; }

    /// <summary>Permission bits plus setuid, setgid and sticky.</summary>
    public required UnixFileMode Mode { get; init; }

    /// <summary>Owner user id.</summary>
    public int Uid { get; init; }

    /// <summary>Owner group id.</summary>
    public int Gid { get; init; }

    /// <summary>Size in bytes (regular files).</summary>
    public long Size { get; init; }

    /// <summary>Modification time.</summary>
    public DateTimeOffset ModificationTime { get; init; }

    /// <summary>Status change time (ctime): changes with the content or metadata and cannot be set back; default if unknown.</summary>
    public DateTimeOffset ChangeTime { get; init; }

    /// <summary>Device of the filesystem holding the file (with <see cref="Inode"/>, identifies hard links); 0 if unknown.</summary>
    public ulong Device { get; init; }

    /// <summary>Inode number; 0 if unknown.</summary>
    public ulong Inode { get; init; }

    /// <summary>Number of hard links.</summary>
    public long LinkCount { get; init; }

    /// <summary>Major number of a device node.</summary>
    public int DeviceMajor { get; init; }

    /// <summary>Minor number of a device node.</summary>
    public int DeviceMinor { get; init; }
}
