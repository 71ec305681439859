using System.CommandLine;
using Dbuild.Oci;
using Dbuild.Solver;

namespace Dbuild.Cli.Commands;

/// <summary>
/// <c>dbuild push NAME [TARGET]</c>: push a local image to its registry; an index only partly in the store (pulled for one
/// platform) pushes that platform's image instead, with docker's note. <c>-a</c> pushes every local tag of the repository.
/// </summary>
internal static class PushCommand
{
    public static Command Create()
    {
        Argument<string> name = new("name") { Description = "Local image name, e.g. 127.0.0.1:5000/app:1." };
        Argument<string?> target = new("target") { Description = "Push under this name instead.", Arity = ArgumentArity.ZeroOrOne };
        Option<bool> allTags = new("--all-tags", "-a") { Description = "Push every tagged image of the repository in the local store." };
        var command = new Command("push", "Push an image from the local store to a registry.") { name, target, allTags };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            using HttpClient http = BuildCommand.CreateHttpClient();
            var images = new LocalImages(GlobalOptions.ResolveRoot(parseResult), BuildCommand.CreateRegistryClient(http));
            string source = parseResult.GetRequiredValue(name);
            Reference? destination = parseResult.GetValue(target) is { } t ? BuildCommand.ParseReference(t) : null;
            if (!parseResult.GetValue(allTags))
            {
                await PushOneAsync(images, source, destination, token);
                return ExitCodes.Ok;
            }
            Reference repository = BuildCommand.ParseReference(source);
            if (!PullCommand.IsNameOnly(source, repository)) { throw new UsageException("tag can't be used with --all-tags/-a"); }
            if (destination is not null) { throw new UsageException("a target name can't be used with --all-tags/-a"); }
            string[] tagged = [.. (await images.ListAsync(token)).Select(i => i.Name).Where(n => Reference.TryParse(n, out Reference? r, out _) && r.Name == repository.Name && r.Tag is not null)
                .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
            if (tagged.Length == 0) { throw new BuildException($"An image does not exist locally with the tag: {repository.FamiliarRepository}"); }
            Console.WriteLine($"The push refers to repository [{repository.Name}]");
            foreach (string image in tagged) { await PushOneAsync(images, image, null, token); }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static async Task PushOneAsync(LocalImages images, string source, Reference? destination, CancellationToken token)
    {
        PushResult pushed = await images.PushAsync(source, destination, token);
        Console.WriteLine($"{(destination ?? BuildCommand.ParseReference(source)).Tag ?? Reference.DefaultTag}: digest: {pushed.Digest} size: {pushed.Size}");
        if (pushed.IndexNotPushed is { } index)
        {
            await Console.Error.WriteLineAsync(
                $"Not all multiplatform-content is present and only the available single-platform image was pushed\n{index} -> {pushed.Digest}");
        }
    }
}
