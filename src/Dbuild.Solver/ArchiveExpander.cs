using System.Formats.Tar;
using System.IO.Compression;
using Dbuild.Oci.Layers;

namespace Dbuild.Solver;

/// <summary>
/// ADD's auto-extraction: a local source file that is a tar (plain, gzip, bzip2, xz or zstd) is unpacked into the
/// destination directory instead of being copied, keeping the archive's owners and modes.
/// </summary>
internal static class ArchiveExpander
{
    /// <param name="entries">The planned COPY entries.</param>
    /// <param name="destinationPath">The destination as a path when it had no trailing slash: an archive copied to exactly that path is
    /// unpacked into it (<c>ADD a.tar.gz /x/a</c> fills <c>/x/a/</c>); otherwise into the archive's parent directory.</param>
    /// <param name="tempDirectory">Where extracted file contents wait for the layer writer.</param>
    /// <param name="cancellationToken">Cancels the extraction.</param>
    public static async Task<IReadOnlyList<LayerEntry>> ExpandAsync(IReadOnlyList<LayerEntry> entries, string destinationPath, string tempDirectory,
        CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, LayerEntry>(StringComparer.Ordinal);
        foreach (LayerEntry entry in entries)
        {
            if (entry.Type != LayerEntryType.File || entry.OpenContent is null || !await IsArchiveAsync(entry, cancellationToken).ConfigureAwait(false))
            {
                result[entry.Path] = entry;
                continue;
            }
            string into = entry.Path == destinationPath ? entry.Path : FsTree.Parent(entry.Path);
            result.Remove(entry.Path);
            if (into == entry.Path)
            {
                // Unpacked to a path of its own: that directory is created like a COPY destination (0755, --chown owner).
                result[into] = new LayerEntry { Path = into, Type = LayerEntryType.Directory, Mode = (UnixFileMode)0b111_101_101, Uid = entry.Uid, Gid = entry.Gid, ModificationTime = entry.ModificationTime };
            }
            string dir = Path.Combine(tempDirectory, "add-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            Stream raw = entry.OpenContent();
            await using (raw.ConfigureAwait(false))
            {
                Stream tar = await DecompressAsync(raw, cancellationToken).ConfigureAwait(false);
                await using (tar.ConfigureAwait(false))
                {
                    using var reader = new TarReader(tar);
                    int n = 0;
                    while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } t)
                    {
                        string name = CopyPlanner.Clean(t.Name);
                        if (name.Length == 0 || t.EntryType is TarEntryType.GlobalExtendedAttributes) { continue; }
                        string path = FsTree.Combine(into, name);
                        var type = t.EntryType switch
                        {
                            TarEntryType.Directory => LayerEntryType.Directory,
                            TarEntryType.SymbolicLink => LayerEntryType.Symlink,
                            TarEntryType.HardLink => LayerEntryType.HardLink,
                            TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile => LayerEntryType.File,
                            _ => (LayerEntryType?)null,
                        };
                        if (type is null) { continue; }
                        Func<Stream>? open = null;
                        long size = 0;
                        if (type == LayerEntryType.File && t.DataStream is { } data)
                        {
                            string file = Path.Combine(dir, (n++).ToString(System.Globalization.CultureInfo.InvariantCulture));
                            FileStream output = File.Create(file);
                            await using (output.ConfigureAwait(false)) { await data.CopyToAsync(output, cancellationToken).ConfigureAwait(false); size = output.Length; }
                            open = () => File.OpenRead(file);
                        }
                        result[path] = new LayerEntry
                        {
                            Path = path,
                            Type = type.Value,
                            Mode = (UnixFileMode)((int)t.Mode & 0xFFF),
                            Uid = t.Uid,
                            Gid = t.Gid,
                            ModificationTime = t.ModificationTime,
                            Size = size,
                            LinkTarget = type == LayerEntryType.HardLink ? FsTree.Combine(into, CopyPlanner.Clean(t.LinkName)) : type == LayerEntryType.Symlink ? t.LinkName : null,
                            OpenContent = open,
                        };
                    }
                }
            }
        }
        return [.. result.Values];
    }

    /// <summary>True when the file, after any gzip/bzip2/xz/zstd layer, starts with a ustar header (docker's test too).</summary>
    private static async Task<bool> IsArchiveAsync(LayerEntry entry, CancellationToken cancellationToken)
    {
        Stream raw = entry.OpenContent!();
        await using (raw.ConfigureAwait(false))
        {
            try
            {
                Stream tar = await DecompressAsync(raw, cancellationToken).ConfigureAwait(false);
                await using (tar.ConfigureAwait(false))
                {
                    byte[] head = new byte[512];
                    int filled = 0;
                    int read;
                    while (filled < head.Length && (read = await tar.ReadAsync(head.AsMemory(filled), cancellationToken).ConfigureAwait(false)) > 0) { filled += read; }
                    return filled == 512 && head[257] == 'u' && head[258] == 's' && head[259] == 't' && head[260] == 'a' && head[261] == 'r';
                }
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or FormatException or NotSupportedException or ArgumentException)
            {
                return false;
            }
        }
    }

    private static async Task<Stream> DecompressAsync(Stream raw, CancellationToken cancellationToken)
    {
        byte[] head = new byte[6];
        int n = 0;
        int read;
        while (n < head.Length && (read = await raw.ReadAsync(head.AsMemory(n), cancellationToken).ConfigureAwait(false)) > 0) { n += read; }
        raw.Seek(0, SeekOrigin.Begin); // sources are files or memory
        Stream buffered = raw;
        if (head[0] == 'B' && head[1] == 'Z') { return SharpCompress.Compressors.BZip2.BZip2Stream.Create(buffered, SharpCompress.Compressors.CompressionMode.Decompress, false); }
        if (head[0] == 0xFD && head[1] == '7') { return new SharpCompress.Compressors.Xz.XZStream(buffered); }
        if (head[0] == 0x1f && head[1] == 0x8b) { return new GZipStream(buffered, CompressionMode.Decompress); }
        return await LayerReader.OpenDecompressedAsync(buffered, cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
