using System.IO.Compression;
using System.Runtime.CompilerServices;
using ZstdSharp;

namespace Dbuild.Oci.Layers;

/// <summary>Reads layer blobs: detects gzip, zstd or plain tar from the magic bytes and enumerates entries.</summary>
public static class LayerReader
{
    private const int ReadBufferSize = 256 * 1024;

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
            var reader = new TarStreamReader(tar);
            while (await reader.NextAsync(cancellationToken).ConfigureAwait(false) is { } next)
            {
                LayerEntry entry = next.Entry;
                yield return entry with
                {
                    Path = TrimName(entry.Path),
                    LinkTarget = entry.Type == LayerEntryType.HardLink && entry.LinkTarget is { } target ? TrimName(target) : entry.LinkTarget,
                };
            }
        }
    }

    /// <summary>
    /// Indexes an uncompressed layer tar in a seekable stream: every entry (names normalised as by
    /// <see cref="ReadEntriesAsync"/>) with the offset of its content in the tar, so a file's bytes can later be read
    /// straight from the tar. Contents are skipped by seeking, so only the headers are read.
    /// </summary>
    /// <exception cref="ArgumentException">The stream cannot seek.</exception>
    public static async IAsyncEnumerable<(LayerEntry Entry, long DataOffset)> IndexAsync(Stream tar, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tar);
        if (!tar.CanSeek) { throw new ArgumentException("Indexing needs a seekable (uncompressed) tar.", nameof(tar)); }
        var buffered = new BufferedStream(tar, 64 * 1024); // not disposed: the caller owns the tar
        var reader = new TarStreamReader(buffered);
        while (await reader.NextAsync(cancellationToken).ConfigureAwait(false) is { } next)
        {
            LayerEntry entry = next.Entry;
            yield return (entry with
            {
                Path = TrimName(entry.Path),
                LinkTarget = entry.Type == LayerEntryType.HardLink && entry.LinkTarget is { } target ? TrimName(target) : entry.LinkTarget,
            }, buffered.Position);
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
        // Tar headers are read 512 bytes at a time: buffer them (a blob stream is typically unbuffered and async, so each
        // small read would be a syscall and a thread-pool hop). With leaveOpen the buffer is simply not disposed, so the
        // blob stays open.
        Stream source = new BufferedStream(blob, ReadBufferSize);
        var raw = new PrefixedReadStream(magic, filled, source, leaveOpen, hash: false);
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
}
