using System.Globalization;
using System.Text;
using Dbuild.Oci;
using Dbuild.Oci.Layers;
using Dbuild.Solver.Cache;

namespace Dbuild.Solver.Ops;

/// <summary>
/// What a context COPY's last snapshot holds, so its next run (one source file changed) hard-links every file that is
/// the same — same path, bytes (content hash), mode, owner, size and written mtime — from that snapshot instead of
/// writing it again. Snapshots never change once made, and a hard link shares the inode's metadata, so a file linked
/// this way is exactly the file the tar would have written. Kept under <c>buildcache/snapshots/</c>: one file per
/// snapshot (escaped path, signature) and one per step naming its last snapshot.
/// </summary>
internal sealed class StepFileIndex(string stateRoot)
{
    private readonly string _dir = Path.Combine(stateRoot, "buildcache", "snapshots");

    /// <summary>The signature of a file entry a snapshot may share with a later one, or null (not a plain file named by its content).</summary>
    public static string? Signature(LayerEntry e, DateTimeOffset writtenTime) =>
        e.Type == LayerEntryType.File && e.ContentId is not null && e.ExtendedAttributes is not { Count: > 0 }
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)e.Mode}:{e.Uid}:{e.Gid}:{e.Size}:{writtenTime.UtcTicks}:{e.ContentId}")
            : null;

    /// <summary>The step's last snapshot and its files by path (signature), or null when there is none or it is gone.</summary>
    public async Task<(Digest Snapshot, Dictionary<string, string> Files)?> PreviousAsync(Digest stepId, Func<Digest, bool> exists, CancellationToken cancellationToken)
    {
        string pointer = Path.Combine(_dir, $"step-{stepId.Encoded}");
        if (!File.Exists(pointer) || !Digest.TryParse((await File.ReadAllTextAsync(pointer, cancellationToken).ConfigureAwait(false)).Trim(), out Digest snapshot)
            || !exists(snapshot))
        {
            return null;
        }
        string index = Path.Combine(_dir, $"{snapshot.Encoded}.files");
        if (!File.Exists(index)) { return null; }
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in await File.ReadAllLinesAsync(index, cancellationToken).ConfigureAwait(false))
        {
            int tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab > 0) { files[Uri.UnescapeDataString(line[..tab])] = line[(tab + 1)..]; }
        }
        return (snapshot, files);
    }

    /// <summary>Records <paramref name="snapshot"/>'s files and makes it the step's last snapshot.</summary>
    public async Task RecordAsync(Digest stepId, Digest snapshot, IEnumerable<KeyValuePair<string, string>> files, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_dir);
        var text = new StringBuilder();
        foreach ((string path, string signature) in files) { text.Append(Uri.EscapeDataString(path)).Append('\t').Append(signature).Append('\n'); }
        await BuildCache.WriteAtomicAsync(Path.Combine(_dir, $"{snapshot.Encoded}.files"), Encoding.UTF8.GetBytes(text.ToString()), cancellationToken).ConfigureAwait(false);
        await BuildCache.WriteAtomicAsync(Path.Combine(_dir, $"step-{stepId.Encoded}"), Encoding.UTF8.GetBytes(snapshot.ToString()), cancellationToken).ConfigureAwait(false);
    }
}
