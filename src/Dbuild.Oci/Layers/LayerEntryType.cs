namespace Dbuild.Oci.Layers;

/// <summary>The kind of a layer tar entry (tar typeflags 0, 1, 2, 3, 4, 5, 6).</summary>
public enum LayerEntryType
{
    /// <summary>A regular file (typeflag <c>0</c>); whiteouts are empty regular files named <c>.wh.*</c>.</summary>
    File,

    /// <summary>A directory (typeflag <c>5</c>).</summary>
    Directory,

    /// <summary>A symbolic link (typeflag <c>2</c>).</summary>
    Symlink,

    /// <summary>A hard link to an earlier entry of the same layer (typeflag <c>1</c>).</summary>
    HardLink,

    /// <summary>A character device (typeflag <c>3</c>).</summary>
    CharacterDevice,

    /// <summary>A block device (typeflag <c>4</c>).</summary>
    BlockDevice,

    /// <summary>A named pipe (typeflag <c>6</c>).</summary>
    Fifo,
}
