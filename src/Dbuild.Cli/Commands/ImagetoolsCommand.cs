using System.CommandLine;
using Dbuild.Cli.Manifests;
using Dbuild.Oci;
using Dbuild.Registry.Client;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild imagetools create/inspect</c> (also <c>dbuild buildx imagetools</c>), as buildx's: indexes made and read in the registry.</summary>
internal static class ImagetoolsCommand
{
    public static Command Create() => new("imagetools", "Commands to work on images in registry.") { CreateCommand(), InspectCommand() };

    /// <summary><c>dbuild buildx imagetools …</c>, for hands used to typing buildx.</summary>
    public static Command CreateBuildx() => new("buildx", "buildx's registry commands: imagetools create/inspect.") { Create() };

    private static Command CreateCommand()
    {
        Argument<string[]> sources = new("SOURCE") { Description = "Images or indexes to combine.", Arity = ArgumentArity.ZeroOrMore };
        Option<string[]> tags = new("--tag", "-t") { Description = "Set reference for new image.", AllowMultipleArgumentsPerToken = false };
        Option<bool> append = new("--append") { Description = "Append to existing manifest." };
        Option<bool> dryRun = new("--dry-run") { Description = "Show final image instead of pushing." };
        var command = new Command("create", "Create a new image based on source images.") { sources, tags, append, dryRun };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            Reference[] targets = [.. (parseResult.GetValue(tags) ?? []).Select(BuildCommand.ParseReference)];
            var inputs = (parseResult.GetValue(sources) ?? []).Select(BuildCommand.ParseReference).ToList();
            bool appending = parseResult.GetValue(append);
            if (targets.Length == 0) { throw new UsageException("no tags specified: create needs -t/--tag TARGET"); }
            if (appending) { inputs.Insert(0, targets[0]); }
            if (inputs.Count == 0) { throw new UsageException("no sources specified"); }
            using HttpClient http = BuildCommand.CreateHttpClient();
            var index = new ImagetoolsIndex(BuildCommand.CreateRegistryClient(http));
            var entries = new List<IndexSource>();
            foreach (Reference input in inputs) { entries.AddRange(await index.ResolveAsync(input, token)); }
            (string mediaType, byte[] content) = ImagetoolsIndex.Write(entries);
            if (parseResult.GetValue(dryRun))
            {
                Console.WriteLine(System.Text.Encoding.UTF8.GetString(content));
                return ExitCodes.Ok;
            }
            foreach (Reference target in targets)
            {
                Digest digest = await index.PushAsync(entries, mediaType, content, target, token);
                await Console.Error.WriteLineAsync($"pushed {target.Name}@{digest} as {target.ManifestReference}");
            }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static Command InspectCommand()
    {
        Argument<string> name = new("NAME") { Description = "Image or index reference." };
        Option<bool> raw = new("--raw") { Description = "Show original, unformatted JSON manifest." };
        var command = new Command("inspect", "Show details of an image in the registry.") { name, raw };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            Reference reference = BuildCommand.ParseReference(parseResult.GetRequiredValue(name));
            using HttpClient http = BuildCommand.CreateHttpClient();
            RegistryClient client = BuildCommand.CreateRegistryClient(http);
            ManifestResponse manifest = await client.GetManifestAsync(reference.Registry, reference.Repository, reference.ManifestReference, token);
            if (parseResult.GetValue(raw))
            {
                using Stream stdout = Console.OpenStandardOutput();
                await stdout.WriteAsync(manifest.Content, token);
                return ExitCodes.Ok;
            }
            Console.WriteLine($"Name:      {reference}");
            Console.WriteLine($"MediaType: {manifest.MediaType}");
            Console.WriteLine($"Digest:    {manifest.Digest}");
            if (MediaTypes.IsIndex(manifest.MediaType))
            {
                Console.WriteLine();
                Console.WriteLine("Manifests:");
                bool first = true;
                foreach (Descriptor child in ImageIndex.Parse(manifest.Content.Span).Manifests)
                {
                    if (!first) { Console.WriteLine(); }
                    first = false;
                    Console.WriteLine($"  Name:      {reference.Name}@{child.Digest}");
                    Console.WriteLine($"  MediaType: {child.MediaType}");
                    if (child.Platform is { } p) { Console.WriteLine($"  Platform:  {p.Os}/{p.Architecture}{(p.Variant is { Length: > 0 } v ? "/" + v : "")}"); }
                }
            }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
