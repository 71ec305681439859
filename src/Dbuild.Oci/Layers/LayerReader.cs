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

    /// <summary>
    /// Enumerates a layer's entries, metadata only (<see cref="LayerEntry.OpenContent"/> is null). Paths are cleaned and
    /// relative (<c>./a/</c>, <c>/a</c> and <c>a</c> are all <c>a</c>); entries naming the root are skipped.
    /// </summary>
    /// <remarks>
    /// Every reader of layers and archives in dbuild accepts the same tars, those containerd's archive.Apply (Go's
    /// archive/tar) accepts: v7, ustar, GNU, old-GNU and PAX headers, base-256 numbers, PAX GNU sparse files, and an
    /// archive that ends without its end-of-archive blocks or right after the last entry's content. Refused, with the
    /// entry named: names or hard-link targets whose <c>..</c> climbs above the root
    /// (<see cref="UnsafeLayerEntryException"/>), hard links to anything but an earlier entry, invalid whiteouts, entry
    /// types layers cannot hold, and corrupt or truncated archives (<see cref="InvalidDataException"/>).
    /// </remarks>
    public static async IAsyncEnumerable<LayerEntry> ReadEntriesAsync(Stream blob, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (LayerEntry entry in ReadAsync(blob, cancellationToken).ConfigureAwait(false))
        {
            yield return entry with { OpenContent = null };
        }
    }

    /// <summary>
    /// Enumerates a layer's entries with their content: a regular file's <see cref="LayerEntry.OpenContent"/> returns
    /// its bytes (<see cref="LayerEntry.Size"/> of them), readable only until the enumeration moves on. Accepts and
    /// refuses the same tars as <see cref="ReadEntriesAsync"/>.
    /// </summary>
    public static async IAsyncEnumerable<LayerEntry> ReadAsync(Stream blob, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        Stream tar = await OpenDecompressedAsync(blob, leaveOpen: true, cancellationToken).ConfigureAwait(false);
        await using (tar.ConfigureAwait(false))
        {
            var reader = new LayerTarReader(tar);
            while (await reader.NextAsync(cancellationToken).ConfigureAwait(false) is { } next)
            {
                Stream data = next.Record.Data;
                yield return next.Entry.Type == LayerEntryType.File ? next.Entry with { OpenContent = () => data } : next.Entry;
            }
        }
    }

    /// <summary>
    /// True when <paramref name="tar"/> (uncompressed) starts with a tar header this reader accepts, which is how BuildKit
    /// decides that an ADD source is an archive (Go's first tar.Reader.Next succeeding): an empty stream or one of
    /// zero blocks is not an archive. Reads only the first header(s).
    /// </summary>
    public static async Task<bool> IsTarAsync(Stream tar, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tar);
        try
        {
            return await new TarStreamReader(tar).NextAsync(cancellationToken).ConfigureAwait(false) is not null;
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }

    /// <summary>
    /// Reads one regular file's bytes out of a layer blob: the last entry named <paramref name="path"/> (a cleaned
    /// relative path such as <c>etc/passwd</c>) wins, as it does when the layer is unpacked; a hard link reads its
    /// target's bytes. Null when the layer has no such file (or the last entry with that name is not a file or link).
    /// </summary>
    /// <param name="blob">The layer blob (gzip, zstd or plain tar); it must be seekable when the file is a hard link.</param>
    /// <param name="path">The file's path in the layer.</param>
    /// <param name="maxBytes">Files larger than this are refused with <see cref="InvalidDataException"/>.</param>
    /// <param name="cancellationToken">Cancels reading.</param>
    public static Task<byte[]?> ReadFileAsync(Stream blob, string path, int maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentNullException.ThrowIfNull(path);
        return ReadFileAsync(blob, blob.CanSeek ? blob.Position : 0, path, maxBytes, 0, cancellationToken);
    }

    private static async Task<byte[]?> ReadFileAsync(Stream blob, long start, string path, int maxBytes, int hops, CancellationToken cancellationToken)
    {
        byte[]? content = null;
        string? linkTo = null;
        await foreach (LayerEntry entry in ReadAsync(blob, cancellationToken).ConfigureAwait(false))
        {
            if (entry.Path != path) { continue; }
            (content, linkTo) = (null, null);
            if (entry.Type == LayerEntryType.HardLink) { linkTo = entry.LinkTarget; }
            else if (entry.Type == LayerEntryType.File) { content = await ReadAllAsync(entry, maxBytes, cancellationToken).ConfigureAwait(false); }
        }
        if (linkTo is null) { return content; }
        if (!blob.CanSeek) { throw new ArgumentException($"'{path}' is a hard link to '{linkTo}': reading it needs a seekable blob.", nameof(blob)); }
        if (hops >= 8) { throw new InvalidDataException($"Layer file '{path}' is a hard link in a loop of hard links."); }
        blob.Position = start;
        return await ReadFileAsync(blob, start, linkTo, maxBytes, hops + 1, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<byte[]> ReadAllAsync(LayerEntry entry, int maxBytes, CancellationToken cancellationToken)
    {
        if (entry.Size > maxBytes) { throw new InvalidDataException($"Layer file '{entry.Path}' is {entry.Size} bytes, more than the {maxBytes} expected here."); }
        byte[] content = new byte[entry.Size];
        Stream data = entry.OpenContent!();
        await data.ReadExactlyAsync(content, cancellationToken).ConfigureAwait(false);
        return content;
    }

    /// <summary>
    /// Indexes an uncompressed layer tar in a seekable stream: every entry (as <see cref="ReadEntriesAsync"/> gives it)
    /// with the offset of its content in the stream, so a file's bytes can later be read straight from the tar; -1 when
    /// the content is not stored contiguously (a sparse file: read it with <see cref="ReadAsync"/>). Contents are
    /// skipped by seeking, so only the headers are read.
    /// </summary>
    /// <exception cref="ArgumentException">The stream cannot seek.</exception>
    public static async IAsyncEnumerable<(LayerEntry Entry, long DataOffset)> IndexAsync(Stream tar, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tar);
        if (!tar.CanSeek) { throw new ArgumentException("Indexing needs a seekable (uncompressed) tar.", nameof(tar)); }
        long start = tar.Position;
        var buffered = new BufferedStream(tar, 64 * 1024); // not disposed: the caller owns the tar
        var reader = new LayerTarReader(buffered);
        while (await reader.NextAsync(cancellationToken).ConfigureAwait(false) is { } next)
        {
            yield return (next.Entry, next.Record.DataOffset < 0 ? -1 : start + next.Record.DataOffset);
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
}
