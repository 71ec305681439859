namespace Dbuild.Oci.Layers;

/// <summary>
/// One tar entry as <see cref="TarStreamReader"/> decodes it: PAX, GNU long-name and sparse extensions merged in, the
/// name and link name exactly as stored (not yet cleaned), and the entry's logical content.
/// </summary>
internal sealed record TarRecord
{
    /// <summary>The name as stored (PAX <c>path</c>, GNU long name, or prefix + name).</summary>
    public required string Name { get; init; }

    /// <summary>The link name as stored (PAX <c>linkpath</c>, GNU long link, or the header field).</summary>
    public required string LinkName { get; init; }

    /// <summary>The typeflag, with the legacy <c>\0</c> already turned into <c>0</c> or (trailing slash) <c>5</c>.</summary>
    public required byte TypeFlag { get; init; }

    /// <summary>The mode field (permission, setuid/setgid/sticky and possibly file-type bits).</summary>
    public long Mode { get; init; }

    /// <summary>Owner user id.</summary>
    public long Uid { get; init; }

    /// <summary>Owner group id.</summary>
    public long Gid { get; init; }

    /// <summary>Logical content length (a sparse file's real size); 0 for types that carry no content.</summary>
    public long Size { get; init; }

    /// <summary>Modification time, with the PAX fraction when there is one.</summary>
    public DateTimeOffset ModificationTime { get; init; }

    /// <summary>Device major number (character and block devices of ustar-family headers).</summary>
    public long DeviceMajor { get; init; }

    /// <summary>Device minor number.</summary>
    public long DeviceMinor { get; init; }

    /// <summary>Extended attributes from <c>SCHILY.xattr.*</c> (and <c>LIBARCHIVE.xattr.*</c>) records, raw bytes.</summary>
    public IReadOnlyDictionary<string, byte[]>? ExtendedAttributes { get; init; }

    /// <summary>Offset of the content in the archive when it is stored contiguously, -1 for a sparse file.</summary>
    public long DataOffset { get; init; }

    /// <summary>The content: <see cref="Size"/> bytes, readable until the reader moves on.</summary>
    public required Stream Data { get; init; }
}
