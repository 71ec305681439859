using System.CommandLine;
using Dbuild.Solver;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild tag SOURCE TARGET</c>.</summary>
internal static class TagCommand
{
    public static Command Create()
    {
        Argument<string> source = new("source") { Description = "Image name or ID in the local store." };
        Argument<string> target = new("target") { Description = "New name, e.g. registry.example/app:2." };
        var command = new Command("tag", "Give a local image another name.") { source, target };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            await new LocalImages(GlobalOptions.ResolveRoot(parseResult)).TagAsync(parseResult.GetRequiredValue(source),
                BuildCommand.ParseReference(parseResult.GetRequiredValue(target)), token);
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
