using System.Buffers;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace Dbuild.Oci.Layers;

/// <summary>
/// Writes layer tars: entries sorted by path, normalised ustar/PAX headers, then gzip, zstd or no compression, streamed
/// to a destination. One pass hashes the tar (diffID) and the compressed bytes (digest).
/// </summary>
/// <remarks>https://github.com/opencontainers/image-spec/blob/v1.1.0/layer.md</remarks>
public static class LayerWriter
{
    private const int CopyBufferSize = 128 * 1024;
    private const int ZstdBufferSize = 128 * 1024;
    /// <summary>Threads per layer at most: more only adds memory (gzip keeps a 1 MiB block per thread, zstd an ~8 MiB job per worker).</summary>
    private const int MaxThreads = 16;

    /// <summary>Writes <paramref name="entries"/> (in ordinal path order, whatever order they come in) as a layer blob.</summary>
    /// <exception cref="ArgumentException">A path is not normalised, appears twice, or a hard link points at a later or missing entry.</exception>
    /// <exception cref="InvalidDataException">A file's content was not <see cref="LayerEntry.Size"/> bytes long.</exception>
    public static async Task<LayerWriteResult> WriteAsync(IEnumerable<LayerEntry> entries, Stream destination,
        LayerWriterOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(destination);
        options ??= LayerWriterOptions.Default;
        List<LayerEntry> sorted = [.. entries];
        sorted.Sort(static (a, b) => string.CompareOrdinal(a.Path, b.Path));
        OrderHardLinks(sorted);

        // An uncompressed blob is the tar itself: hashed once, as the tar.
        bool compressed = options.Compression != LayerCompression.None;
        var blob = new HashingWriteStream(destination, leaveOpen: true, hash: compressed && options.ComputeDigests);
        await using (blob.ConfigureAwait(false))
        {
            Stream compressor = CreateCompressor(blob, options);
            var tar = new HashingWriteStream(compressor, leaveOpen: true, hash: options.ComputeDigests);
            await using (tar.ConfigureAwait(false))
            {
                await using (compressor.ConfigureAwait(false))
                {
                    await WriteTarAsync(sorted, tar, options, cancellationToken).ConfigureAwait(false);
                    await tar.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
                await blob.FlushAsync(cancellationToken).ConfigureAwait(false);
                Digest diffId = tar.GetDigest(); // once: reading the hash resets it
                return new LayerWriteResult
                {
                    Digest = compressed ? blob.GetDigest() : diffId,
                    DiffId = diffId,
                    Size = blob.BytesWritten,
                    UncompressedSize = tar.BytesWritten,
                    MediaType = MediaTypeOf(options.Compression),
                    Compression = options.Compression,
                    EntryCount = sorted.Count,
                };
            }
        }
    }

    /// <summary>
    /// Compresses an existing uncompressed layer tar (read from <paramref name="tar"/> to its end) into
    /// <paramref name="destination"/> with <paramref name="options"/>' codec and level, hashing both sides in the same
    /// pass. The result's <see cref="LayerWriteResult.EntryCount"/> is 0: the tar is not parsed.
    /// </summary>
    public static async Task<LayerWriteResult> CompressAsync(Stream tar, Stream destination, LayerWriterOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tar);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(options);
        var blob = new HashingWriteStream(destination, leaveOpen: true);
        await using (blob.ConfigureAwait(false))
        {
            Stream compressor = CreateCompressor(blob, options);
            var input = new HashingWriteStream(compressor, leaveOpen: true);
            await using (input.ConfigureAwait(false))
            {
                await using (compressor.ConfigureAwait(false))
                {
                    await tar.CopyToAsync(input, CopyBufferSize * 8, cancellationToken).ConfigureAwait(false);
                    await input.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
                await blob.FlushAsync(cancellationToken).ConfigureAwait(false);
                return new LayerWriteResult
                {
                    Digest = blob.GetDigest(),
                    DiffId = input.GetDigest(),
                    Size = blob.BytesWritten,
                    UncompressedSize = input.BytesWritten,
                    MediaType = MediaTypeOf(options.Compression),
                    Compression = options.Compression,
                    EntryCount = 0,
                };
            }
        }
    }

    /// <summary>Scans <paramref name="root"/> with <see cref="DirectoryLayerScanner"/> and writes it as a layer blob.</summary>
    public static Task<LayerWriteResult> WriteDirectoryAsync(string root, Stream destination, LayerWriterOptions? options = null,
        ILayerFileSystem? fileSystem = null, CancellationToken cancellationToken = default) =>
        WriteAsync(DirectoryLayerScanner.Scan(root, new DirectoryScanOptions { FileSystem = fileSystem ?? BclLayerFileSystem.Instance }),
            destination, options, cancellationToken);

    /// <summary>The OCI layer media type for a compression.</summary>
    public static string MediaTypeOf(LayerCompression compression) => MediaTypes.LayerType(compression, oci: true);

    /// <summary>
    /// The codec stage. Its output is a function of the tar bytes, the codec and the level only: gzip is always cut into
    /// the same 1 MiB members (whatever the parallelism), and zstd always runs in zstd's multi-threaded mode, whose
    /// output is the same for any number of workers (it differs from the single-threaded mode's, so that is never used).
    /// </summary>
    private static Stream CreateCompressor(Stream blob, LayerWriterOptions options)
    {
        int threads = Math.Clamp(options.Parallelism, 1, MaxThreads);
        switch (options.Compression)
        {
            case LayerCompression.Gzip:
                return new ParallelGzipStream(blob, options.CompressionLevel ?? 6, threads);
            case LayerCompression.Zstd:
                var compressor = new Compressor(options.CompressionLevel ?? 3);
                compressor.SetParameter(ZSTD_cParameter.ZSTD_c_nbWorkers, threads);
                return new CompressionStream(blob, compressor, ZstdBufferSize, preserveCompressor: false, leaveOpen: true);
            default:
                return new NonClosingStream(blob);
        }
    }

    private static async Task WriteTarAsync(List<LayerEntry> sorted, Stream tar, LayerWriterOptions options, CancellationToken cancellationToken)
    {
        var written = new HashSet<string>(StringComparer.Ordinal);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            foreach (LayerEntry entry in sorted)
            {
                ValidatePath(entry.Path, nameof(entry));
                if (!written.Add(entry.Path)) { throw new ArgumentException($"Layer entry '{entry.Path}' appears twice.", nameof(sorted)); }
                if (entry.Type == LayerEntryType.HardLink && (entry.LinkTarget is null || !written.Contains(entry.LinkTarget)))
                {
                    throw new ArgumentException($"Hard link '{entry.Path}' must point at an earlier entry of the layer, not '{entry.LinkTarget}'.", nameof(sorted));
                }
                DateTimeOffset mtime = entry.ModificationTime;
                if (options.SourceDateEpoch is { } epoch && mtime > epoch) { mtime = epoch; }
                await tar.WriteAsync(TarHeaderWriter.Build(entry, mtime.ToUnixTimeSeconds()), cancellationToken).ConfigureAwait(false);
                if (entry.Type != LayerEntryType.File || entry.Size == 0) { continue; }

                Stream content = entry.OpenContent?.Invoke() ?? throw new ArgumentException($"File '{entry.Path}' has a size but no content.", nameof(sorted));
                await using (content.ConfigureAwait(false))
                {
                    long remaining = entry.Size;
                    while (remaining > 0)
                    {
                        int read = await content.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), cancellationToken).ConfigureAwait(false);
                        if (read == 0) { throw new InvalidDataException($"'{entry.Path}' shrank while it was being written ({entry.Size - remaining} of {entry.Size} bytes)."); }
                        await tar.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                        remaining -= read;
                    }
                    if (await content.ReadAsync(buffer.AsMemory(0, 1), cancellationToken).ConfigureAwait(false) != 0)
                    {
                        throw new InvalidDataException($"'{entry.Path}' grew while it was being written (more than {entry.Size} bytes).");
                    }
                }
                int padding = TarHeaderWriter.PaddingFor(entry.Size);
                if (padding > 0)
                {
                    Array.Clear(buffer, 0, padding);
                    await tar.WriteAsync(buffer.AsMemory(0, padding), cancellationToken).ConfigureAwait(false);
                }
            }
            Array.Clear(buffer, 0, TarHeaderWriter.BlockSize * 2);
            await tar.WriteAsync(buffer.AsMemory(0, TarHeaderWriter.BlockSize * 2), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A hard link must follow the entry holding the data: when a link sorts first, it takes the data instead.</summary>
    private static void OrderHardLinks(List<LayerEntry> sorted)
    {
        Dictionary<string, int>? index = null;
        Dictionary<string, string>? moved = null;
        for (int i = 0; i < sorted.Count; i++)
        {
            LayerEntry entry = sorted[i];
            if (entry.Type != LayerEntryType.HardLink || entry.LinkTarget is null) { continue; }
            if (index is null)
            {
                index = new Dictionary<string, int>(StringComparer.Ordinal);
                for (int k = 0; k < sorted.Count; k++) { index.TryAdd(sorted[k].Path, k); }
            }
            string target = moved is not null && moved.TryGetValue(entry.LinkTarget, out string? holder) ? holder : entry.LinkTarget;
            if (index.TryGetValue(target, out int j) && j > i && sorted[j].Type == LayerEntryType.File)
            {
                LayerEntry data = sorted[j];
                sorted[i] = data with { Path = entry.Path };
                sorted[j] = data with { Type = LayerEntryType.HardLink, LinkTarget = entry.Path, Size = 0, OpenContent = null };
                (moved ??= new(StringComparer.Ordinal))[target] = entry.Path;
            }
            else if (target != entry.LinkTarget)
            {
                sorted[i] = entry with { LinkTarget = target };
            }
        }
    }

    internal static void ValidatePath(string path, string parameterName)
    {
        if (string.IsNullOrEmpty(path) || path[0] == '/' || path[^1] == '/' || path.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Layer entry path '{path}' must be relative, non-empty and without a trailing '/'.", parameterName);
        }
        foreach (string part in path.Split('/'))
        {
            if (part is "" or "." or "..") { throw new ArgumentException($"Layer entry path '{path}' has an empty, '.' or '..' component.", parameterName); }
        }
    }

    /// <summary>The "no compression" stage: forwards writes, leaves the blob stream open on dispose.</summary>
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
