using System.CommandLine;
using Dbuild.Oci;
using Dbuild.Solver;

namespace Dbuild.Cli.Commands;

/// <summary>
/// <c>dbuild push NAME [TARGET]</c>: push a local image to its registry; an index only partly in the store (pulled for one
/// platform) pushes that platform's image instead, with docker's note.
/// </summary>
internal static class PushCommand
{
    public static Command Create()
    {
        Argument<string> name = new("name") { Description = "Local image name, e.g. 127.0.0.1:5000/app:1." };
        Argument<string?> target = new("target") { Description = "Push under this name instead.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("push", "Push an image from the local store to a registry.") { name, target };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            using HttpClient http = BuildCommand.CreateHttpClient();
            var images = new LocalImages(GlobalOptions.ResolveRoot(parseResult), BuildCommand.CreateRegistryClient(http));
            string source = parseResult.GetRequiredValue(name);
            Reference? destination = parseResult.GetValue(target) is { } t ? BuildCommand.ParseReference(t) : null;
            PushResult pushed = await images.PushAsync(source, destination, token);
            Console.WriteLine($"{(destination ?? BuildCommand.ParseReference(source)).Tag ?? Reference.DefaultTag}: digest: {pushed.Digest} size: {pushed.Size}");
            if (pushed.IndexNotPushed is { } index)
            {
                await Console.Error.WriteLineAsync(
                    $"Not all multiplatform-content is present and only the available single-platform image was pushed\n{index} -> {pushed.Digest}");
            }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
