using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text;
using ZstdSharp;

namespace Dbuild.Oci.Layers;

/// <summary>Reads layer blobs: detects gzip, zstd or plain tar from the magic bytes and enumerates entries.</summary>
public static class LayerReader
{
    private const string XattrPrefix = "SCHILY.xattr.";
    private const string LibarchiveXattrPrefix = "LIBARCHIVE.xattr.";

    /// <summary>gzip (<c>1f 8b</c>), zstd (<c>28 b5 2f fd</c>), or else a plain tar.</summary>
    public static LayerCompression DetectCompression(ReadOnlySpan<byte> prefix) =>
        prefix is [0x1f, 0x8b, ..] ? LayerCompression.Gzip
        : prefix is [0x28, 0xb5, 0x2f, 0xfd, ..] ? LayerCompression.Zstd
        : LayerCompression.None;

    /// <summary>Wraps a blob in the right decompressor, chosen from its first bytes.</summary>
    public static async Task<Stream> OpenDecompressedAsync(Stream blob, bool leaveOpen = false, CancellationToken cancellationToken = default)
    {
        (Stream stream, _, _) = await OpenAsync(blob, leaveOpen, hashTar: false, cancellationToken).ConfigureAwait(false);
        return stream;
    }

    /// <summary>Enumerates a layer's entries (metadata only; <see cref="LayerEntry.OpenContent"/> is null). Paths lose any <c>./</c> prefix and trailing <c>/</c>.</summary>
    public static async IAsyncEnumerable<LayerEntry> ReadEntriesAsync(Stream blob, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        Stream tar = await OpenDecompressedAsync(blob, leaveOpen: true, cancellationToken).ConfigureAwait(false);
        await using (tar.ConfigureAwait(false))
        {
            var reader = new TarReader(tar, leaveOpen: true);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } tarEntry)
                {
                    if (ToLayerEntry(tarEntry) is { } entry) { yield return entry; }
                }
            }
        }
    }

    internal static async Task<(Stream Tar, PrefixedReadStream? Hashing, LayerCompression Compression)> OpenAsync(
        Stream blob, bool leaveOpen, bool hashTar, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blob);
        byte[] magic = new byte[4];
        int filled = 0;
        while (filled < magic.Length)
        {
            int read = await blob.ReadAsync(magic.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (read == 0) { break; }
            filled += read;
        }
        LayerCompression compression = DetectCompression(magic.AsSpan(0, filled));
        var raw = new PrefixedReadStream(magic, filled, blob, leaveOpen, hash: false);
        Stream tar = compression switch
        {
            LayerCompression.Gzip => new GZipStream(raw, CompressionMode.Decompress),
            LayerCompression.Zstd => new DecompressionStream(raw),
            _ => raw,
        };
        if (!hashTar) { return (tar, null, compression); }
        var hashing = new PrefixedReadStream([], 0, tar, leaveOpen: false, hash: true);
        return (hashing, hashing, compression);
    }

    /// <summary>Normalises a tar name: drops <c>./</c> and <c>/</c> prefixes' dot segments and the trailing slash; "" is the root.</summary>
    internal static string TrimName(string name)
    {
        while (name.StartsWith("./", StringComparison.Ordinal)) { name = name[2..]; }
        name = name.TrimEnd('/');
        return name == "." ? "" : name;
    }

    internal static LayerEntry? ToLayerEntry(TarEntry tarEntry)
    {
        LayerEntryType? type = tarEntry.EntryType switch
        {
            TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile => LayerEntryType.File,
            TarEntryType.Directory => LayerEntryType.Directory,
            TarEntryType.SymbolicLink => LayerEntryType.Symlink,
            TarEntryType.HardLink => LayerEntryType.HardLink,
            TarEntryType.CharacterDevice => LayerEntryType.CharacterDevice,
            TarEntryType.BlockDevice => LayerEntryType.BlockDevice,
            TarEntryType.Fifo => LayerEntryType.Fifo,
            TarEntryType.SparseFile => throw new InvalidDataException($"Layer entry '{tarEntry.Name}' is a GNU sparse file, which layers do not support."),
            _ => null, // global PAX headers, GNU volume headers and the like carry no file
        };
        if (type is null) { return null; }
        Dictionary<string, byte[]>? xattrs = null;
        if (tarEntry is PaxTarEntry pax)
        {
            foreach ((string key, string value) in pax.ExtendedAttributes)
            {
                if (key.StartsWith(XattrPrefix, StringComparison.Ordinal))
                {
                    (xattrs ??= new(StringComparer.Ordinal))[key[XattrPrefix.Length..]] = Encoding.UTF8.GetBytes(value);
                }
                else if (key.StartsWith(LibarchiveXattrPrefix, StringComparison.Ordinal))
                {
                    (xattrs ??= new(StringComparer.Ordinal))[Uri.UnescapeDataString(key[LibarchiveXattrPrefix.Length..])] = Convert.FromBase64String(value);
                }
            }
        }
        var posix = tarEntry as PosixTarEntry;
        return new LayerEntry
        {
            Path = TrimName(tarEntry.Name),
            Type = type.Value,
            Mode = tarEntry.Mode,
            Uid = tarEntry.Uid,
            Gid = tarEntry.Gid,
            ModificationTime = tarEntry.ModificationTime,
            Size = type == LayerEntryType.File ? tarEntry.Length : 0,
            LinkTarget = type is LayerEntryType.Symlink ? tarEntry.LinkName : type is LayerEntryType.HardLink ? TrimName(tarEntry.LinkName) : null,
            DeviceMajor = posix?.DeviceMajor ?? 0,
            DeviceMinor = posix?.DeviceMinor ?? 0,
            ExtendedAttributes = xattrs,
        };
    }
}
