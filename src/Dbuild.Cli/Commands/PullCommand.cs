using System.CommandLine;
using Dbuild.Oci;
using Dbuild.Solver;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild pull NAME</c>: fetch an image into the local store.</summary>
internal static class PullCommand
{
    public static Command Create()
    {
        Argument<string> name = new("name") { Description = "Image reference, e.g. 127.0.0.1:5000/busybox:latest." };
        Option<string?> platform = new("--platform") { Description = "os/arch[/variant] to pick from an index (default: this machine)." };
        var command = new Command("pull", "Pull an image from a registry into the local store.") { name, platform };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            using HttpClient http = BuildCommand.CreateHttpClient();
            var images = new LocalImages(GlobalOptions.ResolveRoot(parseResult), BuildCommand.CreateRegistryClient(http));
            Reference reference = BuildCommand.ParseReference(parseResult.GetRequiredValue(name));
            Digest digest = await images.PullAsync(reference, parseResult.GetValue(platform) is { } p ? Platform.Parse(p) : Platform.Current, token);
            Console.WriteLine($"Digest: {digest}");
            Console.WriteLine(reference);
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
