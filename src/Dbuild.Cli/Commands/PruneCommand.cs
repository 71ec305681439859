using System.CommandLine;
using Dbuild.Solver;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild prune [--all]</c>: delete unreferenced blobs (and with --all the build cache).</summary>
internal static class PruneCommand
{
    public static Command Create()
    {
        Option<bool> all = new("--all", "-a") { Description = "Also drop the build cache and the layers only it references." };
        var command = new Command("prune", "Remove unreferenced blobs from the local store.") { all };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            string root = GlobalOptions.ResolveRoot(parseResult);
            long freed = await new LocalImages(root) { Waiting = StoreWaits.ForPrune(root) }.PruneAsync(parseResult.GetValue(all), token);
            Console.WriteLine($"Total reclaimed space: {ImagesCommand.Size(freed)}");
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
