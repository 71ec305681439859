using Dbuild.Oci.Layers;

namespace Dbuild.Solver;

/// <summary>
/// A build context that arrives as one file (stdin or a download), read as docker's DetectArchiveReader reads it: a
/// tar, plain or gzip, bzip2, xz or zstd by its magic bytes, is unpacked into a directory; anything else is the
/// Dockerfile and the context is empty. Entries are streamed to disk one at a time.
/// </summary>
internal static class ContextArchive
{
    private const int MaxDockerfileBytes = 16 << 20;

    /// <param name="file">The spooled input (seekable).</param>
    /// <param name="directory">The empty directory to unpack into.</param>
    /// <param name="source">The input for messages, e.g. <c>stdin</c> or the URL.</param>
    /// <param name="temporaryRoot">Deleted when the context is disposed.</param>
    /// <param name="cancellationToken">Cancels the unpacking.</param>
    public static async Task<PreparedContext> UnpackAsync(string file, string directory, string source, string temporaryRoot, CancellationToken cancellationToken)
    {
        string compression;
        bool isTar;
        FileStream raw = File.OpenRead(file);
        await using (raw.ConfigureAwait(false))
        {
            byte[] head = new byte[6];
            int filled = await raw.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            compression = CompressionName(head.AsSpan(0, filled));
            raw.Seek(0, SeekOrigin.Begin);
            try
            {
                Stream tar = await Store.ArchiveDecompression.OpenAsync(raw, cancellationToken).ConfigureAwait(false);
                await using (tar.ConfigureAwait(false)) { isTar = await LayerReader.IsTarAsync(tar, cancellationToken).ConfigureAwait(false); }
            }
            catch (Exception ex) when (IsCorrupt(ex))
            {
                if (compression == "tar") { isTar = false; }
                else { throw Corrupt(source, compression, ex); }
            }
        }
        if (compression == "gzip") { await CheckGzipEndAsync(file, source, cancellationToken).ConfigureAwait(false); }
        if (!isTar)
        {
            if (compression != "tar")
            {
                await DrainAsync(file, source, compression, cancellationToken).ConfigureAwait(false); // a corrupt stream says so
                throw new BuildException($"unable to prepare context: {source} is a {compression} stream but not of a tar archive");
            }
            if (new FileInfo(file).Length > MaxDockerfileBytes)
            {
                throw new BuildException($"unable to prepare context: {source} is neither a tar archive nor a Dockerfile (over {MaxDockerfileBytes >> 20} MiB of text)");
            }
            return new PreparedContext(directory, await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false), temporaryRoot);
        }
        try
        {
            await ExtractAsync(file, directory, source, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsCorrupt(ex))
        {
            throw Corrupt(source, compression, ex);
        }
        return new PreparedContext(directory, null, temporaryRoot);
    }

    /// <summary>
    /// .NET's GZipStream ends quietly where a gzip file is cut off (Go's reader says "unexpected EOF"): the decompressed
    /// length must match the trailer's ISIZE (length mod 2^32) of a complete single-member gzip file.
    /// </summary>
    private static async Task CheckGzipEndAsync(string file, string source, CancellationToken cancellationToken)
    {
        long length = await DrainAsync(file, source, "gzip", cancellationToken).ConfigureAwait(false);
        byte[] trailer = new byte[4];
        FileStream raw = File.OpenRead(file);
        await using (raw.ConfigureAwait(false))
        {
            raw.Seek(Math.Max(0, raw.Length - 4), SeekOrigin.Begin);
            await raw.ReadExactlyAsync(trailer, cancellationToken).ConfigureAwait(false);
        }
        if (System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(trailer) != (uint)length)
        {
            throw new BuildException($"unable to prepare context: {source} is not a valid gzip-compressed tar archive: it ends too early (truncated?)");
        }
    }

    /// <summary>Decompresses the whole file to nowhere; returns the decompressed length, or throws naming the corruption.</summary>
    private static async Task<long> DrainAsync(string file, string source, string compression, CancellationToken cancellationToken)
    {
        FileStream raw = File.OpenRead(file);
        await using (raw.ConfigureAwait(false))
        {
            try
            {
                Stream decompressed = await Store.ArchiveDecompression.OpenAsync(raw, cancellationToken).ConfigureAwait(false);
                await using (decompressed.ConfigureAwait(false))
                {
                    byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(81920);
                    try
                    {
                        long total = 0;
                        int read;
                        while ((read = await decompressed.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0) { total += read; }
                        return total;
                    }
                    finally
                    {
                        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                    }
                }
            }
            catch (Exception ex) when (IsCorrupt(ex))
            {
                throw Corrupt(source, compression, ex);
            }
        }
    }

    private static async Task ExtractAsync(string file, string directory, string source, CancellationToken cancellationToken)
    {
        var symlinks = new HashSet<string>(StringComparer.Ordinal);
        var directories = new List<(string Path, LayerEntry Entry)>();
        FileStream raw = File.OpenRead(file);
        await using (raw.ConfigureAwait(false))
        {
            Stream tar = await Store.ArchiveDecompression.OpenAsync(raw, cancellationToken).ConfigureAwait(false);
            await using (tar.ConfigureAwait(false))
            {
                await foreach (LayerEntry entry in LayerReader.ReadAsync(tar, cancellationToken).ConfigureAwait(false))
                {
                    // An entry through an earlier symlink would land outside the context: refused, as a layer would be.
                    if (LinkAbove(entry.Path, symlinks) is { } link)
                    {
                        throw new BuildException($"unable to prepare context: {source}: the entry \"{entry.Path}\" is below the symlink \"{link}\"");
                    }
                    string target = Path.Combine(directory, entry.Path);
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    if (entry.Type != LayerEntryType.Directory || symlinks.Contains(entry.Path)) { RemoveExisting(target); }
                    symlinks.Remove(entry.Path);
                    switch (entry.Type)
                    {
                        case LayerEntryType.Directory:
                            Directory.CreateDirectory(target);
                            directories.Add((target, entry));
                            break;
                        case LayerEntryType.File when entry.OpenContent is { } open:
                            FileStream output = new(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true);
                            await using (output.ConfigureAwait(false)) { await open().CopyToAsync(output, cancellationToken).ConfigureAwait(false); }
                            SetMetadata(target, entry);
                            break;
                        case LayerEntryType.Symlink:
                            File.CreateSymbolicLink(target, entry.LinkTarget!);
                            symlinks.Add(entry.Path);
                            break;
                        case LayerEntryType.HardLink when LinkAbove(entry.LinkTarget!, symlinks) is null:
                            File.Copy(Path.Combine(directory, entry.LinkTarget!), target); // same bytes and mode; the link itself is not needed for COPY
                            break;
                        default:
                            break; // devices, fifos: a context has no use for them (docker's context transfer skips them too)
                    }
                }
            }
        }
        for (int i = directories.Count - 1; i >= 0; i--) { SetMetadata(directories[i].Path, directories[i].Entry); }
    }

    private static void SetMetadata(string path, LayerEntry entry)
    {
        File.SetUnixFileMode(path, entry.Mode);
        File.SetLastWriteTimeUtc(path, entry.ModificationTime.UtcDateTime);
    }

    private static void RemoveExisting(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null || File.Exists(path)) { File.Delete(path); }
        else if (Directory.Exists(path)) { Directory.Delete(path, recursive: true); }
    }

    private static string? LinkAbove(string path, HashSet<string> symlinks)
    {
        for (int slash = path.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = path.IndexOf('/', slash + 1))
        {
            if (symlinks.Contains(path[..slash])) { return path[..slash]; }
        }
        return null;
    }

    private static string CompressionName(ReadOnlySpan<byte> head) =>
        head is [(byte)'B', (byte)'Z', ..] ? "bzip2"
        : head is [0xFD, (byte)'7', ..] ? "xz"
        : head is [0x1f, 0x8b, ..] ? "gzip"
        : head is [0x28, 0xb5, 0x2f, 0xfd, ..] ? "zstd"
        : "tar";

    private static bool IsCorrupt(Exception ex) =>
        ex is InvalidDataException or EndOfStreamException or FormatException or NotSupportedException or ArgumentException or SharpCompress.Common.SharpCompressException or ZstdSharp.ZstdException
        || (ex is IOException && ex is not FileNotFoundException and not DirectoryNotFoundException);

    private static BuildException Corrupt(string source, string compression, Exception ex)
    {
        string reason = ex is EndOfStreamException || ex.Message.Contains("end of the stream", StringComparison.OrdinalIgnoreCase)
            ? "it ends too early (truncated?)" : ex.Message.TrimEnd('.');
        string what = compression == "tar" ? "tar archive" : $"{compression}-compressed tar archive";
        return new BuildException($"unable to prepare context: {source} is not a valid {what}: {reason}", ex);
    }
}
