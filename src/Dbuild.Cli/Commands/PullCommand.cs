using System.CommandLine;
using Dbuild.Oci;
using Dbuild.Solver;

namespace Dbuild.Cli.Commands;

/// <summary>
/// <c>dbuild pull [--platform P | --all-platforms] NAME</c>: fetch an image into the local store. The name points at
/// what the registry serves (the index of a multi-platform image) with one platform's content, or every platform's.
/// </summary>
internal static class PullCommand
{
    public static Command Create()
    {
        Argument<string> name = new("name") { Description = "Image reference, e.g. 127.0.0.1:5000/busybox:latest." };
        Option<string?> platform = new("--platform") { Description = "os/arch[/variant] to pick from an index (default: this machine)." };
        Option<bool> allPlatforms = new("--all-platforms") { Description = "Pull every platform of an index (its whole content), as ctr pull --all-platforms." };
        var command = new Command("pull", "Pull an image from a registry into the local store.") { name, platform, allPlatforms };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            Platform? wanted = parseResult.GetValue(platform) is { } p ? Platform.Parse(p) : null;
            bool all = parseResult.GetValue(allPlatforms);
            if (all && wanted is not null) { throw new UsageException("--platform and --all-platforms cannot be used together."); }
            Reference reference = BuildCommand.ParseReference(parseResult.GetRequiredValue(name));
            using HttpClient http = BuildCommand.CreateHttpClient();
            var images = new LocalImages(GlobalOptions.ResolveRoot(parseResult), BuildCommand.CreateRegistryClient(http));
            PulledImage pulled = await images.PullAsync(reference, wanted, all, token);
            Console.WriteLine($"Digest: {pulled.Top.Digest}");
            if (pulled.Warning is { } warning) { Console.WriteLine($"WARNING: {warning}"); }
            Console.WriteLine(reference);
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
