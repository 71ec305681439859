using System.Globalization;

namespace Dbuild.Solver.Cache;

/// <summary>
/// Chooses the entries a prune removes (<see cref="Select"/>) and removes them (<see cref="Delete"/>): the records
/// pointing at an entry first, then its storage, a snapshot or cache mount renamed out of sight before it is deleted,
/// so a build never finds half of one.
/// </summary>
public static class CachePruner
{
    /// <summary>
    /// The entries <paramref name="options"/> remove from <paramref name="report"/>, least recently used first. With a
    /// keep-storage limit, candidates go (oldest first) only until the whole cache fits; entries
    /// <paramref name="isProtected"/> names are never chosen.
    /// </summary>
    public static IReadOnlyList<CacheEntry> Select(CacheUsageReport report, CachePruneOptions options, DateTimeOffset now, Func<CacheEntry, bool>? isProtected = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(options);
        List<CacheEntry> candidates = [.. report.Entries
            .Where(e => options.All || (!e.Shared && e.Kind != CacheEntryKind.Records))
            .Where(e => options.Until is not { } until || e.LastUsed < now - until)
            .Where(e => options.Types.Count == 0 || options.Types.Contains(e.RecordType))
            .Where(e => isProtected is null || !isProtected(e))
            .OrderBy(e => e.LastUsed).ThenBy(e => e.Id, StringComparer.Ordinal)];
        if (options.KeepStorage is not { } keep) { return candidates; }
        long total = report.CacheSize;
        var chosen = new List<CacheEntry>();
        foreach (CacheEntry entry in candidates)
        {
            if (total <= keep) { break; }
            chosen.Add(entry);
            total -= entry.Size;
        }
        return chosen;
    }

    /// <summary>Deletes the entries and what points at them; returns the bytes freed (the entries' sizes).</summary>
    public static long Delete(IEnumerable<CacheEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        long freed = 0;
        foreach (CacheEntry entry in entries)
        {
            foreach (string record in entry.Records) { TryDeleteFile(record); }
            foreach (string path in entry.Paths)
            {
                if (entry.Kind == CacheEntryKind.Records) { DeleteFilesUnder(path); }
                else if (Directory.Exists(path)) { DeleteDirectory(path); }
                else { TryDeleteFile(path); }
            }
            freed += entry.Size;
        }
        return freed;
    }

    /// <summary>Empties the records directory but keeps its folders, which running builds expect.</summary>
    private static void DeleteFilesUnder(string directory)
    {
        if (!Directory.Exists(directory)) { return; }
        foreach (string file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).ToList()) { TryDeleteFile(file); }
    }

    /// <summary>Renames the tree to a staging name its store removes if this process dies midway (<c>tmp-PID-…</c>), then deletes it.</summary>
    private static void DeleteDirectory(string path)
    {
        string doomed = Path.Combine(Path.GetDirectoryName(path)!, string.Create(CultureInfo.InvariantCulture, $"tmp-{Environment.ProcessId}-{Guid.NewGuid():N}"));
        try { Directory.Move(path, doomed); }
        catch (DirectoryNotFoundException) { return; } // removed meanwhile
        Directory.Delete(doomed, recursive: true);
    }

    private static void TryDeleteFile(string path)
    {
        try { File.Delete(path); }
        catch (DirectoryNotFoundException) { }
    }
}
