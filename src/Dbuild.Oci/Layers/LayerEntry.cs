namespace Dbuild.Oci.Layers;

/// <summary>
/// One entry of a layer tar, normalised: a relative path with <c>/</c> separators and no <c>./</c> prefix, numeric
/// owner (user and group names are never written), permission bits including setuid/setgid/sticky, and an mtime
/// (read with a PAX record's fraction, to 100 ns; written in whole seconds).
/// </summary>
/// <remarks>https://github.com/opencontainers/image-spec/blob/v1.1.0/layer.md</remarks>
public sealed record LayerEntry
{
    /// <summary>The whiteout file-name prefix.</summary>
    public const string WhiteoutPrefix = ".wh.";

    /// <summary>The opaque-directory marker's file name.</summary>
    public const string OpaqueWhiteoutName = ".wh..wh..opq";

    /// <summary>Relative path, e.g. <c>usr/bin/env</c> (no leading <c>/</c> or <c>./</c>, no trailing <c>/</c>).</summary>
    public required string Path { get; init; }

    /// <summary>The entry's kind.</summary>
    public required LayerEntryType Type { get; init; }

    /// <summary>Permission bits plus setuid, setgid and sticky (the tar mode field's low 12 bits).</summary>
    public UnixFileMode Mode { get; init; }

    /// <summary>Owner user id.</summary>
    public int Uid { get; init; }

    /// <summary>Owner group id.</summary>
    public int Gid { get; init; }

    /// <summary>Modification time (kept to 100 ns when read from a PAX record; written in whole seconds).</summary>
    public DateTimeOffset ModificationTime { get; init; } = DateTimeOffset.UnixEpoch;

    /// <summary>Content length for regular files; 0 for everything else.</summary>
    public long Size { get; init; }

    /// <summary>Symlink target (as stored), or for a hard link the layer-relative path of the entry it links to.</summary>
    public string? LinkTarget { get; init; }

    /// <summary>Device major number (character and block devices).</summary>
    public int DeviceMajor { get; init; }

    /// <summary>Device minor number (character and block devices).</summary>
    public int DeviceMinor { get; init; }

    /// <summary>Extended attributes (name to raw value), written as PAX <c>SCHILY.xattr.*</c> records.</summary>
    public IReadOnlyDictionary<string, byte[]>? ExtendedAttributes { get; init; }

    /// <summary>Opens the content of a regular file; read once, exactly <see cref="Size"/> bytes.</summary>
    public Func<Stream>? OpenContent { get; init; }

    /// <summary>
    /// Optional: a stable name for the exact bytes <see cref="OpenContent"/> yields (a content digest, or a blob digest
    /// and offset). When every file of a layer has one, a writer may recognise a layer it wrote before without reading.
    /// </summary>
    public string? ContentId { get; init; }

    /// <summary>
    /// An existing file (in an immutable snapshot) with exactly this entry's bytes and metadata: an unpacking that allows
    /// it may hard-link it instead of writing a copy. Not part of the layer's bytes.
    /// </summary>
    public string? LinkSource { get; init; }

    /// <summary>The last path component.</summary>
    public string Name => Path[(Path.LastIndexOf('/') + 1)..];

    /// <summary>True for a <c>.wh.</c> entry (a deletion or an opaque marker).</summary>
    public bool IsWhiteout => Type == LayerEntryType.File && Name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal);

    /// <summary>True for the opaque-directory marker <c>.wh..wh..opq</c>.</summary>
    public bool IsOpaqueWhiteout => Type == LayerEntryType.File && Name == OpaqueWhiteoutName;

    /// <summary>A whiteout deleting <paramref name="path"/> from the layers below.</summary>
    public static LayerEntry Whiteout(string path, DateTimeOffset? modificationTime = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        int slash = path.LastIndexOf('/');
        return new LayerEntry
        {
            Path = path[..(slash + 1)] + WhiteoutPrefix + path[(slash + 1)..],
            Type = LayerEntryType.File,
            ModificationTime = modificationTime ?? DateTimeOffset.UnixEpoch,
        };
    }

    /// <summary>The marker that hides everything below <paramref name="directory"/> in lower layers.</summary>
    public static LayerEntry OpaqueWhiteout(string directory, DateTimeOffset? modificationTime = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return new LayerEntry
        {
            Path = directory.Length == 0 ? OpaqueWhiteoutName : directory + "/" + OpaqueWhiteoutName,
            Type = LayerEntryType.File,
            ModificationTime = modificationTime ?? DateTimeOffset.UnixEpoch,
        };
    }
}
