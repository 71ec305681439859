using System.CommandLine;
using Dbuild.Oci;
using Dbuild.Solver;

namespace Dbuild.Cli.Commands;

/// <summary>
/// <c>dbuild verify [LAYOUT]</c>: re-hashes every blob of the local store (or of an OCI layout) against its name, and
/// checks that every name, and every dangling image, reaches content the store has (an index pulled for some platforms
/// needs only those).
/// </summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        Argument<string?> layout = new("layout")
        {
            Description = "An OCI image layout directory to check instead of the local store.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("verify", "Check that every stored blob still hashes to its digest and every name's blobs are stored.") { layout };
        command.SetAction((parseResult, cancellationToken) => CommandRunner.RunAsync(parseResult, async ct =>
        {
            string? dir = parseResult.GetValue(layout);
            ContentStore store = dir is null
                ? ContentStore.ForStateRoot(GlobalOptions.ResolveRoot(parseResult))
                : ContentStore.OpenExisting(dir);
            int checkedCount = 0;
            var bad = new List<Digest>();
            foreach (Digest digest in store.EnumerateBlobs())
            {
                checkedCount++;
                if (!await store.VerifyBlobAsync(digest, ct)) { bad.Add(digest); }
            }
            foreach (Digest digest in bad)
            {
                await Console.Error.WriteLineAsync($"corrupt: {digest} ({store.GetBlobPath(digest)}) no longer matches its digest");
            }
            IReadOnlyList<(string Name, Descriptor Descriptor)> names = await store.ListNamesAsync(ct);
            int incomplete = 0;
            foreach ((string name, Descriptor descriptor) in names)
            {
                IReadOnlyList<string> problems = await CheckNameAsync(store, descriptor, ct);
                if (problems.Count > 0) { incomplete++; }
                foreach (string problem in problems) { await Console.Error.WriteLineAsync($"missing: {name}: {problem}"); }
            }
            IReadOnlyList<Descriptor> dangling = await store.ListUnnamedAsync(ct);
            foreach (Descriptor descriptor in dangling)
            {
                IReadOnlyList<string> problems = await CheckNameAsync(store, descriptor, ct);
                if (problems.Count > 0) { incomplete++; }
                foreach (string problem in problems) { await Console.Error.WriteLineAsync($"missing: <none>@{descriptor.Digest}: {problem}"); }
            }
            string danglingChecked = dangling.Count > 0 ? $" and {dangling.Count} dangling images" : "";
            Console.WriteLine($"{checkedCount} blobs checked, {bad.Count} corrupt; {names.Count} names{danglingChecked} checked, {incomplete} with missing blobs");
            return bad.Count == 0 && incomplete == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        }, cancellationToken));
        return command;
    }

    private static async Task<IReadOnlyList<string>> CheckNameAsync(ContentStore store, Descriptor descriptor, CancellationToken cancellationToken)
    {
        try
        {
            StoredImage image = await StoredImage.ReadAsync(store, descriptor, cancellationToken);
            return [.. image.MissingContent().Select(m => $"{m.Digest} ({m.What}) is not in the store")];
        }
        catch (Exception ex) when (ex is DigestMismatchException or InvalidContentException)
        {
            return [$"{descriptor.Digest} cannot be read: {ex.Message}"];
        }
    }
}
