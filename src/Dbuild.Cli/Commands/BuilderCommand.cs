using System.CommandLine;
using Dbuild.Oci.Locking;
using Dbuild.Solver.Cache;
using Dbuild.Solver.Store;

namespace Dbuild.Cli.Commands;

/// <summary>
/// <c>dbuild builder prune [--all] [--filter until=24h] [--keep-storage 10GB] [-f] [--verbose]</c>: remove build cache
/// entries with buildx's names and meanings, asking first as docker does unless <c>-f</c>.
/// </summary>
internal static class BuilderCommand
{
    internal const string DanglingWarning = "WARNING! This will remove all dangling build cache. Are you sure you want to continue?";
    internal const string AllWarning = "WARNING! This will remove all build cache. Are you sure you want to continue?";

    public static Command Create()
    {
        Option<bool> all = new("--all", "-a") { Description = "Also remove the unpacked layers of tagged images and the cache's internal records." };
        Option<string[]> filters = new("--filter") { Description = "Provide filter values (e.g. 'until=24h': only entries unused for longer; 'type=exec.cachemount').", AllowMultipleArgumentsPerToken = false };
        Option<string?> keepStorage = new("--keep-storage", "--reserved-space") { Description = "Amount of disk space to keep for cache (e.g. 10GB): the most recently used entries up to that size stay." };
        Option<bool> force = new("--force", "-f") { Description = "Do not prompt for confirmation." };
        Option<bool> verbose = new("--verbose") { Description = "Provide a more verbose output." };
        var prune = new Command("prune", "Remove build cache.") { all, filters, keepStorage, force, verbose };
        prune.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            CachePruneOptions options = Parse(parseResult.GetValue(all), parseResult.GetValue(filters) ?? [], parseResult.GetValue(keepStorage));
            if (!parseResult.GetValue(force) && !Confirm(options.All ? AllWarning : DanglingWarning)) { return ExitCodes.Ok; }
            string root = GlobalOptions.ResolveRoot(parseResult);
            using FileLock use = await StoreUse.ForPruningAsync(root, StoreWaits.ForPrune(root), token); // no build or pull meanwhile
            CacheUsageReport report = await CacheUsage.ScanAsync(root, exact: true, token);
            DateTimeOffset now = DateTimeOffset.UtcNow;
            DateTimeOffset? inUse = RunningBuilds.InUseSince(root); // a build running meanwhile keeps what it may be using
            IReadOnlyList<CacheEntry> chosen = CachePruner.Select(report, options, now, e => e.LastUsed >= inUse);
            long freed = CachePruner.Delete(chosen);
            Console.Write(parseResult.GetValue(verbose) ? CacheListing.Verbose(chosen, now) : chosen.Count > 0 ? CacheListing.Table(chosen, now) : "");
            Console.Write(TextTable.Tabs([["Total:", HumanUnits.Size(freed)]]));
            return ExitCodes.Ok;
        }, cancellationToken));
        return new Command("builder", "Manage builds.") { prune };
    }

    /// <summary>The prune the flags ask for.</summary>
    /// <exception cref="FormatException">A bad filter or size.</exception>
    internal static CachePruneOptions Parse(bool all, IEnumerable<string> filters, string? keepStorage)
    {
        var options = new CachePruneOptions { All = all };
        foreach (string filter in filters) { options = options.WithFilter(filter); }
        if (keepStorage is null) { return options; }
        return ByteSize.TryParse(keepStorage, out long bytes) ? options with { KeepStorage = bytes }
            : throw new FormatException($"invalid argument \"{keepStorage}\" for \"--keep-storage\" flag: invalid size: '{keepStorage}'");
    }

    /// <summary>docker's prompt: the warning and <c>[y/N]</c> on stdout, one line read from stdin (a terminal or not); only y or Y goes on.</summary>
    private static bool Confirm(string warning)
    {
        Console.Write(warning + " [y/N] ");
        return string.Equals(Console.In.ReadLine()?.Trim(), "y", StringComparison.OrdinalIgnoreCase);
    }
}
