using System.CommandLine;
using System.Text;
using Dbuild.Solver;
using Dbuild.Solver.Store;

namespace Dbuild.Cli.Commands;

/// <summary>
/// <c>dbuild image prune [-a] [-f] [--filter until=…|label=…]</c>: docker's, removing dangling images (with <c>-a</c> every
/// image) and the blobs nothing needs any more. The build cache is <c>dbuild builder prune</c>'s.
/// </summary>
internal static class ImagePruneCommand
{
    internal const string DanglingWarning = "WARNING! This will remove all dangling images.\nAre you sure you want to continue?";
    internal const string AllWarning = "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?";

    public static Command Create()
    {
        Option<bool> all = new("--all", "-a") { Description = "Remove all unused images, not just dangling ones." };
        Option<string[]> filters = new("--filter") { Description = "Provide filter values (e.g. 'until=<timestamp>', 'label=key=value').", AllowMultipleArgumentsPerToken = false };
        Option<bool> force = new("--force", "-f") { Description = "Do not prompt for confirmation." };
        var command = new Command("prune", "Remove unused images.") { all, filters, force };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            DateTimeOffset now = DateTimeOffset.UtcNow;
            var filter = new ImagePruneFilter();
            foreach (string f in parseResult.GetValue(filters) ?? []) { filter = filter.With(f, now); }
            bool pruneAll = parseResult.GetValue(all);
            if (!parseResult.GetValue(force))
            {
                Console.Write((pruneAll ? AllWarning : DanglingWarning) + " [y/N] ");
                if (!string.Equals(Console.In.ReadLine()?.Trim(), "y", StringComparison.OrdinalIgnoreCase))
                {
                    Console.WriteLine("Total reclaimed space: 0B"); // docker 20.10 says so when declined too
                    return ExitCodes.Ok;
                }
            }
            string root = GlobalOptions.ResolveRoot(parseResult);
            ImagePruneResult result = await new ImagePruner(root, new LocalImages(root) { Waiting = StoreWaits.ForPrune(root) }).PruneAsync(pruneAll, filter, token);
            var output = new StringBuilder();
            if (result.Deletions.Count > 0)
            {
                output.Append("Deleted Images:\n");
                foreach (ImageDeletion line in result.Deletions)
                {
                    output.Append(line.Untagged is { } untagged ? $"untagged: {untagged}\n" : $"deleted: {line.Deleted}\n");
                }
                output.Append('\n');
            }
            output.Append("Total reclaimed space: ").Append(HumanUnits.Size(result.Reclaimed)).Append('\n');
            Console.Write(output.ToString());
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
