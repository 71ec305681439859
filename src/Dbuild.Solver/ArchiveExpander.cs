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
                Stream tar = await Store.ArchiveDecompression.OpenAsync(raw, cancellationToken).ConfigureAwait(false);
                await using (tar.ConfigureAwait(false))
                {
                    // The one layer reader: the archive is accepted or refused exactly as a layer would be.
                    int n = 0;
                    await foreach (LayerEntry t in LayerReader.ReadAsync(tar, cancellationToken).ConfigureAwait(false))
                    {
                        if (t.Type is LayerEntryType.CharacterDevice or LayerEntryType.BlockDevice or LayerEntryType.Fifo) { continue; }
                        string path = FsTree.Combine(into, t.Path);
                        Func<Stream>? open = null;
                        long size = 0;
                        if (t.Type == LayerEntryType.File && t.OpenContent is { } data)
                        {
                            string file = Path.Combine(dir, (n++).ToString(System.Globalization.CultureInfo.InvariantCulture));
                            FileStream output = File.Create(file);
                            await using (output.ConfigureAwait(false)) { await data().CopyToAsync(output, cancellationToken).ConfigureAwait(false); size = output.Length; }
                            open = () => File.OpenRead(file);
                        }
                        result[path] = t with // the last entry of a name wins
                        {
                            Path = path,
                            Size = size,
                            LinkTarget = t.Type == LayerEntryType.HardLink ? FsTree.Combine(into, t.LinkTarget!) : t.LinkTarget,
                            OpenContent = open,
                        };
                    }
                }
            }
        }
        return [.. result.Values];
    }

    /// <summary>
    /// True when the file, after any gzip/bzip2/xz/zstd layer, starts with a tar header the layer reader accepts: what
    /// BuildKit asks too (Go's first tar.Reader.Next succeeding), so v7 and GNU tars count, an empty file does not.
    /// </summary>
    private static async Task<bool> IsArchiveAsync(LayerEntry entry, CancellationToken cancellationToken)
    {
        Stream raw = entry.OpenContent!();
        await using (raw.ConfigureAwait(false))
        {
            try
            {
                Stream tar = await Store.ArchiveDecompression.OpenAsync(raw, cancellationToken).ConfigureAwait(false);
                await using (tar.ConfigureAwait(false))
                {
                    return await LayerReader.IsTarAsync(tar, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or FormatException or NotSupportedException or ArgumentException)
            {
                return false;
            }
        }
    }
}
