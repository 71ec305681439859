using System.Text;
using Dbuild.Solver.Cache;

namespace Dbuild.Cli.Commands;

/// <summary>Build cache entries printed as buildx prints them (<c>docker buildx prune</c>, <c>docker buildx du</c>).</summary>
internal static class CacheListing
{
    /// <summary>A short ID, as long as BuildKit's record IDs.</summary>
    public static string ShortId(CacheEntry entry)
    {
        string id = entry.Id.StartsWith("sha256:", StringComparison.Ordinal) ? entry.Id[7..] : entry.Id;
        return id.Length > 25 ? id[..25] : id;
    }

    /// <summary>When it was last used, e.g. <c>3 days ago</c>.</summary>
    public static string LastUsed(CacheEntry entry, DateTimeOffset now) => HumanUnits.Duration(now - entry.LastUsed) + " ago";

    /// <summary>buildx's table: a mutable entry (cache mount) is marked <c>*</c> after its ID, a shared one after its size.</summary>
    public static string Table(IEnumerable<CacheEntry> entries, DateTimeOffset now) => TextTable.Tabs(
        entries.Select(e => (IReadOnlyList<string>)[
            (ShortId(e) + (e.Kind == CacheEntryKind.CacheMount ? "*" : "")).PadRight(40),
            "true ",
            (HumanUnits.Size(e.Size) + (e.Shared ? "*" : "")).PadRight(10),
            LastUsed(e, now)])
        .Prepend(["ID", "RECLAIMABLE", "SIZE", "LAST ACCESSED"]));

    /// <summary>buildx's <c>--verbose</c> blocks, one per entry.</summary>
    public static string Verbose(IEnumerable<CacheEntry> entries, DateTimeOffset now)
    {
        var text = new StringBuilder();
        foreach (CacheEntry e in entries)
        {
            text.Append(TextTable.Tabs([
                ["ID:", e.Id],
                ["Mutable:", e.Kind == CacheEntryKind.CacheMount ? "true" : "false"],
                ["Reclaimable:", "true"],
                ["Shared:", e.Shared ? "true" : "false"],
                ["Size:", HumanUnits.Size(e.Size)],
                ["Description:", e.Description],
                ["Last used:", LastUsed(e, now)],
                ["Type:", e.RecordType]]));
            text.Append('\n');
        }
        return text.ToString();
    }
}
