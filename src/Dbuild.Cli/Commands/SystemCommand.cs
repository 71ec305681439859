using System.CommandLine;
using System.Globalization;
using System.Text;
using Dbuild.Solver;
using Dbuild.Solver.Cache;

namespace Dbuild.Cli.Commands;

/// <summary>
/// <c>dbuild system df [-v]</c>: what the state root holds, in <c>docker system df</c>'s table: images, build cache
/// (blobs only the cache holds, and its records), snapshots and cache mounts, sized as <c>du -sb</c> measures them.
/// ACTIVE counts what <c>dbuild builder prune</c> keeps without <c>--all</c>; RECLAIMABLE is what it frees.
/// </summary>
internal static class SystemCommand
{
    public static Command Create()
    {
        Option<bool> verbose = new("--verbose", "-v") { Description = "Show detailed information on space usage." };
        var df = new Command("df", "Show dbuild disk usage.") { verbose };
        df.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            string root = GlobalOptions.ResolveRoot(parseResult);
            CacheUsageReport report = await CacheUsage.ScanAsync(root, exact: true, token);
            Console.Write(Summary(report));
            if (parseResult.GetValue(verbose))
            {
                Console.Write(await ImagesAsync(root, token));
                Console.Write(Details(report, DateTimeOffset.UtcNow));
            }
            return ExitCodes.Ok;
        }, cancellationToken));
        return new Command("system", "Manage dbuild's state.") { df };
    }

    /// <summary>The TYPE / TOTAL / ACTIVE / SIZE / RECLAIMABLE table.</summary>
    internal static string Summary(CacheUsageReport report)
    {
        List<IReadOnlyList<string>> rows = [["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]];
        rows.Add(["Images", Count(report.ImageCount), Count(report.ImageCount), HumanUnits.Size(report.ImagesSize), Share(0, report.ImagesSize)]);
        foreach ((string name, CacheEntryKind[] kinds) in Sections)
        {
            IReadOnlyList<CacheEntry> entries = report.Of(kinds);
            long size = entries.Sum(e => e.Size);
            long reclaimable = entries.Where(e => !Kept(e)).Sum(e => e.Size);
            rows.Add([name, Count(entries.Count), Count(entries.Count(Kept)), HumanUnits.Size(size),
                name == "Build Cache" ? HumanUnits.Size(reclaimable) : Share(reclaimable, size)]);
        }
        return TextTable.Spaces(rows);
    }

    private static readonly (string Name, CacheEntryKind[] Kinds)[] Sections =
    [
        ("Build Cache", [CacheEntryKind.Blob, CacheEntryKind.Records]),
        ("Snapshots", [CacheEntryKind.Snapshot]),
        ("Cache Mounts", [CacheEntryKind.CacheMount]),
    ];

    /// <summary>Kept by a prune without --all: shared with a tagged image, or the cache's internal records.</summary>
    private static bool Kept(CacheEntry entry) => entry.Shared || entry.Kind == CacheEntryKind.Records;

    private static string Count(int count) => count.ToString(CultureInfo.InvariantCulture);

    private static string Share(long part, long whole) =>
        whole > 0 ? $"{HumanUnits.Size(part)} ({(part * 100 / whole).ToString(CultureInfo.InvariantCulture)}%)" : HumanUnits.Size(part);

    private static async Task<string> ImagesAsync(string root, CancellationToken cancellationToken)
    {
        List<IReadOnlyList<string>> rows = [["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]];
        DateTimeOffset now = DateTimeOffset.UtcNow;
        foreach (LocalImage image in await new LocalImages(root).ListAsync(cancellationToken))
        {
            (string repository, string tag) = ImagesCommand.Split(image.Name);
            rows.Add([repository, tag, image.ImageId.Encoded[..12], image.Created is { } c ? HumanUnits.Duration(now - c) + " ago" : "", HumanUnits.Size(image.Size)]);
        }
        return "\nImages space usage:\n\n" + TextTable.Spaces(rows);
    }

    /// <summary>One table per cache section, docker's "Build cache usage" columns.</summary>
    internal static string Details(CacheUsageReport report, DateTimeOffset now)
    {
        var text = new StringBuilder();
        foreach ((string name, CacheEntryKind[] kinds) in Sections)
        {
            IReadOnlyList<CacheEntry> entries = report.Of(kinds);
            text.Append(CultureInfo.InvariantCulture, $"\n{name} usage: {HumanUnits.Size(entries.Sum(e => e.Size))}\n\n");
            List<IReadOnlyList<string>> rows = [["CACHE ID", "CACHE TYPE", "SIZE", "LAST USED", "SHARED", "DESCRIPTION"]];
            rows.AddRange(entries.Select(e => (IReadOnlyList<string>)[CacheListing.ShortId(e), e.RecordType, HumanUnits.Size(e.Size),
                CacheListing.LastUsed(e, now), e.Shared ? "true" : "false", e.Description]));
            text.Append(TextTable.Spaces(rows));
        }
        return text.ToString();
    }
}
