using Dbuild.Oci;
using Dbuild.Oci.Layers;

namespace Dbuild.Solver.Store;

/// <summary>A regular file of an archive being loaded, written to the staging directory and hashed on the way.</summary>
internal sealed record StagedFile(string Path, Digest Digest, long Size);

/// <summary>
/// The files of an archive (<c>docker save</c> or an OCI layout tar, plain, gzip or zstd) read once, front to back, into a
/// staging directory beside the store's blobs, each hashed as it is written; symlinks (docker's save links a layer
/// that appears twice) are resolved against the files. Nothing reaches the store until the caller has checked
/// everything and commits; disposing deletes what is left.
/// </summary>
internal sealed class ArchiveStaging : IDisposable
{
    private readonly Dictionary<string, StagedFile> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _links = new(StringComparer.Ordinal);

    private ArchiveStaging(string directory) => Directory = directory;

    /// <summary>Where the files are.</summary>
    public string Directory { get; }

    /// <summary>Reads <paramref name="archive"/> into a new directory under <paramref name="store"/>'s ingest area.</summary>
    /// <exception cref="InvalidDataException">Not a tar, or a corrupt one.</exception>
    public static async Task<ArchiveStaging> ReadAsync(ContentStore store, Stream archive, CancellationToken cancellationToken)
    {
        string ingest = Path.Combine(store.Root, "ingest");
        RemoveLeftovers(ingest);
        var staging = new ArchiveStaging(System.IO.Directory.CreateDirectory(Path.Combine(ingest, $"load-{Environment.ProcessId}-{Guid.NewGuid():N}")).FullName);
        try
        {
            await foreach (LayerEntry entry in LayerReader.ReadAsync(archive, cancellationToken).ConfigureAwait(false))
            {
                if (entry.Type is LayerEntryType.Symlink or LayerEntryType.HardLink && entry.LinkTarget is { } target)
                {
                    staging._links[entry.Path] = entry.Type == LayerEntryType.HardLink ? target : Resolve(entry.Path, target);
                    continue;
                }
                if (entry.Type != LayerEntryType.File || entry.OpenContent is null) { continue; }
                string path = Path.Combine(staging.Directory, staging._files.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
                var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
                await using (file.ConfigureAwait(false))
                {
                    using var digesting = new DigestingReadStream(entry.OpenContent(), leaveOpen: true);
                    await digesting.CopyToAsync(file, 256 * 1024, cancellationToken).ConfigureAwait(false);
                    Digest digest = await digesting.DrainAsync(cancellationToken).ConfigureAwait(false);
                    file.Flush(flushToDisk: true);
                    staging._files[entry.Path] = new StagedFile(path, digest, digesting.BytesRead);
                }
            }
            return staging;
        }
        catch
        {
            staging.Dispose();
            throw;
        }
    }

    /// <summary>The file at <paramref name="name"/> (following links), or null.</summary>
    public StagedFile? Find(string name)
    {
        string path = name.TrimStart('.', '/');
        for (int hops = 0; hops < 16 && path is not null; hops++)
        {
            if (_files.TryGetValue(path, out StagedFile? file)) { return file; }
            if (!_links.TryGetValue(path, out string? next)) { return null; }
            path = next;
        }
        return null;
    }

    /// <summary>A small file's bytes (manifest.json, index.json, configs, manifests), refused past <paramref name="maxBytes"/>.</summary>
    public async Task<byte[]?> ReadSmallAsync(string name, CancellationToken cancellationToken, int maxBytes = 4 * 1024 * 1024)
    {
        if (Find(name) is not { } file) { return null; }
        if (file.Size > maxBytes) { throw new InvalidContentException($"{name} in the archive has {file.Size} bytes, more than the {maxBytes} a document may have."); }
        return await File.ReadAllBytesAsync(file.Path, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { /* a file committed by rename is gone already; the rest goes with the next load */ }
    }

    /// <summary>Staging directories of loads whose process is gone (killed mid-load): they hold nothing the store uses.</summary>
    private static void RemoveLeftovers(string ingest)
    {
        if (!System.IO.Directory.Exists(ingest)) { return; }
        foreach (string directory in System.IO.Directory.EnumerateDirectories(ingest, "load-*"))
        {
            string[] parts = Path.GetFileName(directory).Split('-');
            if (parts.Length != 3 || !int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid) || IsAlive(pid)) { continue; }
            try { System.IO.Directory.Delete(directory, recursive: true); }
            catch (IOException) { /* another load is removing it too */ }
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException) { return false; }
    }

    private static string Resolve(string linkPath, string target)
    {
        if (target.StartsWith('/')) { return target.TrimStart('/'); }
        var parts = new List<string>(linkPath.Split('/')[..^1]);
        foreach (string part in target.Split('/'))
        {
            if (part is "" or ".") { continue; }
            if (part == "..") { if (parts.Count > 0) { parts.RemoveAt(parts.Count - 1); } continue; }
            parts.Add(part);
        }
        return string.Join('/', parts);
    }
}
