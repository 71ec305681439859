namespace Dbuild.Oci.Layers;

/// <summary>
/// A tar read as a layer, the same way for every caller (snapshot unpacking, COPY --from, ADD of an archive, reading one
/// file): <see cref="TarStreamReader"/>'s records become <see cref="LayerEntry"/> values with cleaned relative paths
/// (<see cref="LayerPath.Clean"/>), and what containerd's archive.Apply refuses is refused here with the entry's name:
/// names and hard-link targets whose <c>..</c> climbs above the root, hard links to anything but an earlier entry of
/// the layer, the whiteouts <c>.wh.</c>, <c>.wh..</c> and <c>.wh...</c>, and types other than regular file, hard link,
/// symlink, device, directory and FIFO. Entries naming the root itself are skipped, as containerd skips them.
/// </summary>
internal sealed class LayerTarReader(Stream tar)
{
    private readonly TarStreamReader _reader = new(tar);
    /// <summary>Earlier non-directory entries: what a hard link may point at.</summary>
    private readonly HashSet<string> _linkable = new(StringComparer.Ordinal);

    /// <summary>The next entry (metadata; <see cref="LayerEntry.OpenContent"/> is null) and the record it came from, whose data is valid until the next call.</summary>
    public async Task<(LayerEntry Entry, TarRecord Record)?> NextAsync(CancellationToken cancellationToken)
    {
        while (await _reader.NextAsync(cancellationToken).ConfigureAwait(false) is { } record)
        {
            string path = LayerPath.Clean(record.Name) ?? throw new UnsafeLayerEntryException(record.Name, "its '..' climbs out of the root");
            if (path.Length == 0) { continue; }
            LayerEntryType type = record.TypeFlag switch
            {
                (byte)'0' => LayerEntryType.File,
                (byte)'1' => LayerEntryType.HardLink,
                (byte)'2' => LayerEntryType.Symlink,
                (byte)'3' => LayerEntryType.CharacterDevice,
                (byte)'4' => LayerEntryType.BlockDevice,
                (byte)'5' => LayerEntryType.Directory,
                (byte)'6' => LayerEntryType.Fifo,
                (byte)'7' => throw new InvalidDataException($"Layer entry '{record.Name}' is a contiguous file (tar type '7'), which containerd does not unpack either."),
                _ => throw new InvalidDataException($"Layer entry '{record.Name}' has the tar type '{Printable(record.TypeFlag)}', which layers cannot hold (containerd refuses it too)."),
            };
            string name = path[(path.LastIndexOf('/') + 1)..];
            if (name.StartsWith(LayerEntry.WhiteoutPrefix, StringComparison.Ordinal))
            {
                if (name[LayerEntry.WhiteoutPrefix.Length..] is "" or "." or "..")
                {
                    throw new UnsafeLayerEntryException(record.Name, $"'{name}' is not a valid whiteout (it names no entry, or the directory itself or its parent)");
                }
                type = LayerEntryType.File; // containerd goes by the name: whatever its type, it is a whiteout
            }
            string? link = type switch
            {
                LayerEntryType.Symlink => record.LinkName,
                LayerEntryType.HardLink => HardLinkTarget(record),
                _ => null,
            };
            if (type == LayerEntryType.Directory) { _linkable.Remove(path); } else { _linkable.Add(path); }
            bool isWhiteout = name.StartsWith(LayerEntry.WhiteoutPrefix, StringComparison.Ordinal);
            var entry = new LayerEntry
            {
                Path = path,
                Type = type,
                Mode = (UnixFileMode)(record.Mode & 0xFFF),
                Uid = (int)record.Uid,
                Gid = (int)record.Gid,
                ModificationTime = record.ModificationTime,
                Size = type == LayerEntryType.File && !isWhiteout ? record.Size : 0,
                LinkTarget = link,
                DeviceMajor = type is LayerEntryType.CharacterDevice or LayerEntryType.BlockDevice ? (int)record.DeviceMajor : 0,
                DeviceMinor = type is LayerEntryType.CharacterDevice or LayerEntryType.BlockDevice ? (int)record.DeviceMinor : 0,
                ExtendedAttributes = record.ExtendedAttributes,
            };
            return (entry, isWhiteout ? record with { Size = 0, Data = Stream.Null } : record);
        }
        return null;
    }

    /// <summary>A hard link's target, cleaned like a name (<c>./a</c>, <c>/a</c> are <c>a</c>); it must be an earlier entry of this layer.</summary>
    private string HardLinkTarget(TarRecord record)
    {
        string target = LayerPath.Clean(record.LinkName)
            ?? throw new UnsafeLayerEntryException(record.Name, $"its hard link target '{record.LinkName}' climbs out of the root");
        if (target.Length == 0) { throw new UnsafeLayerEntryException(record.Name, "it is a hard link to the root directory"); }
        if (!_linkable.Contains(target))
        {
            throw new UnsafeLayerEntryException(record.Name, $"its hard link target '{record.LinkName}' is not an earlier file of the layer");
        }
        return target;
    }

    private static string Printable(byte typeflag) => typeflag is >= 0x20 and < 0x7F ? ((char)typeflag).ToString() : $"\\x{typeflag:x2}";
}
