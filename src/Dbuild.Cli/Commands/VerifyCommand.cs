using System.CommandLine;
using Dbuild.Oci;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild verify [LAYOUT]</c>: re-hashes every blob of the local store (or of an OCI layout) against its name.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        Argument<string?> layout = new("layout")
        {
            Description = "An OCI image layout directory to check instead of the local store.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("verify", "Check that every stored blob still hashes to its digest.") { layout };
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
            Console.WriteLine($"{checkedCount} blobs checked, {bad.Count} corrupt");
            return bad.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        }, cancellationToken));
        return command;
    }
}
