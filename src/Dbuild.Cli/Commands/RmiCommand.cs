using System.CommandLine;
using Dbuild.Solver;
using Dbuild.Solver.Store;

namespace Dbuild.Cli.Commands;

/// <summary>
/// <c>dbuild rmi [-f] [--no-prune] IMAGE…</c> (also <c>dbuild image rm</c>): untag, and delete an image with its last
/// name, as docker does; its blobs go with <c>dbuild image prune</c>. Every argument is tried; the errors follow, and
/// fail the command unless <c>-f</c> and every error is a missing image (docker's rule).
/// </summary>
internal static class RmiCommand
{
    public static Command Create(string name = "rmi")
    {
        Argument<string[]> images = new("image") { Description = "Names or IDs.", Arity = ArgumentArity.OneOrMore };
        Option<bool> force = new("--force", "-f") { Description = "Force removal of the image (an ID several names point at)." };
        Option<bool> noPrune = new("--no-prune") { Description = "Do not delete untagged parents (dbuild images have no parent images; accepted for docker's sake)." };
        var command = new Command(name, "Remove one or more images from the local store.") { images, force, noPrune };
        if (name == "rm") { command.Aliases.Add("rmi"); command.Aliases.Add("remove"); }
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            bool forced = parseResult.GetValue(force);
            var remover = new ImageRemover(new LocalImages(GlobalOptions.ResolveRoot(parseResult)));
            var errors = new List<string>();
            bool fatal = false;
            foreach (string image in parseResult.GetRequiredValue(images))
            {
                try
                {
                    foreach (ImageDeletion line in await remover.RemoveAsync(image, forced, token))
                    {
                        Console.WriteLine(line.Untagged is { } untagged ? $"Untagged: {untagged}" : $"Deleted: {line.Deleted}");
                    }
                }
                catch (BuildException ex)
                {
                    bool missing = ex.Message.StartsWith(ImageRemover.NoSuchImage, StringComparison.Ordinal);
                    fatal |= !missing;
                    errors.Add((missing ? "Error: " : "Error response from daemon: ") + ex.Message); // docker 20.10's client words it so
                }
            }
            if (errors.Count == 0) { return ExitCodes.Ok; }
            await Console.Error.WriteLineAsync(string.Join('\n', errors));
            return forced && !fatal ? ExitCodes.Ok : ExitCodes.Failed;
        }, cancellationToken));
        return command;
    }
}
