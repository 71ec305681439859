using System.CommandLine;
using Dbuild.Oci;
using Dbuild.Registry.Client;
using Dbuild.Solver;

namespace Dbuild.Cli.Commands;

/// <summary>
/// <c>dbuild pull [--platform P | --all-platforms] NAME</c>: fetch an image into the local store. The name points at
/// what the registry serves (the index of a multi-platform image) with one platform's content, or every platform's.
/// <c>-a</c> pulls every tag of the repository, <c>-q</c> prints only the name, as docker does.
/// </summary>
internal static class PullCommand
{
    public static Command Create()
    {
        Argument<string> name = new("name") { Description = "Image reference, e.g. 127.0.0.1:5000/busybox:latest." };
        Option<string?> platform = new("--platform") { Description = "os/arch[/variant] to pick from an index (default: this machine)." };
        Option<bool> allPlatforms = new("--all-platforms") { Description = "Pull every platform of an index (its whole content), as ctr pull --all-platforms." };
        Option<bool> allTags = new("--all-tags", "-a") { Description = "Pull every tagged image of the repository." };
        Option<bool> quiet = new("--quiet", "-q") { Description = "Print only the image name." };
        var command = new Command("pull", "Pull an image from a registry into the local store.") { name, platform, allPlatforms, allTags, quiet };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            Platform? wanted = parseResult.GetValue(platform) is { } p ? Platform.Parse(p) : null;
            bool all = parseResult.GetValue(allPlatforms);
            if (all && wanted is not null) { throw new UsageException("--platform and --all-platforms cannot be used together."); }
            string raw = parseResult.GetRequiredValue(name);
            Reference reference = BuildCommand.ParseReference(raw);
            bool everyTag = parseResult.GetValue(allTags);
            bool silent = parseResult.GetValue(quiet);
            if (everyTag && !IsNameOnly(raw, reference)) { throw new UsageException("tag can't be used with --all-tags/-a"); }
            using HttpClient http = BuildCommand.CreateHttpClient();
            RegistryClient client = BuildCommand.CreateRegistryClient(http);
            string root = GlobalOptions.ResolveRoot(parseResult);
            var images = new LocalImages(root, client) { Waiting = StoreWaits.ForWrite(root) };
            IReadOnlyList<Reference> tags = everyTag
                ? [.. (await client.ListTagsAsync(reference.Registry, reference.Repository, token)).Select(reference.WithTag)]
                : [reference];
            bool newer = false;
            foreach (Reference tag in tags)
            {
                if (!silent) { Console.WriteLine($"{tag.Tag ?? tag.Digest?.ToString()}: Pulling from {tag.Repository}"); }
                Digest? before = await LocalDigestAsync(images, tag, token);
                PulledImage pulled = await images.PullAsync(tag, wanted, all, token);
                newer |= before != pulled.Top.Digest;
                if (silent) { continue; }
                Console.WriteLine($"Digest: {pulled.Top.Digest}");
                if (pulled.Warning is { } warning) { Console.WriteLine($"WARNING: {warning}"); }
            }
            // docker prints the fully qualified name: the repository alone for -a.
            string shown = everyTag ? reference.Name : reference.ToString();
            if (!silent) { Console.WriteLine(newer ? $"Status: Downloaded newer image for {shown}" : $"Status: Image is up to date for {shown}"); }
            Console.WriteLine(shown);
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static async Task<Digest?> LocalDigestAsync(LocalImages images, Reference tag, CancellationToken token)
    {
        try { return (await images.FindAsync(tag.ToString(), token)).Manifest.Digest; }
        catch (BuildException) { return null; } // not in the store yet
    }

    /// <summary>True when <paramref name="raw"/> names a repository only (the parser added <c>:latest</c>).</summary>
    internal static bool IsNameOnly(string raw, Reference reference) =>
        reference.Digest is null && !raw.EndsWith(":" + reference.Tag, StringComparison.Ordinal);
}
