using System.CommandLine;
using Dbuild.Solver;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild rmi IMAGE…</c>: untag (blobs go with <c>dbuild prune</c>).</summary>
internal static class RmiCommand
{
    public static Command Create()
    {
        Argument<string[]> images = new("image") { Description = "Names or IDs.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("rmi", "Remove images from the local store.") { images };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            var store = new LocalImages(GlobalOptions.ResolveRoot(parseResult));
            foreach (string image in parseResult.GetRequiredValue(images))
            {
                foreach (string name in await store.RemoveAsync(image, token)) { Console.WriteLine($"Untagged: {name}"); }
            }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
