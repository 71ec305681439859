using System.CommandLine;
using Dbuild.Oci;
using Dbuild.Solver;
using Dbuild.Solver.Store;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild import [-c CHANGE]… [-m MSG] [--platform P] FILE|URL|- [REPOSITORY[:TAG]]</c>: docker's import of a root filesystem tarball.</summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        Argument<string> source = new("file|URL|-") { Description = "The tarball: a file, an http(s) URL, or - for STDIN." };
        Argument<string?> repository = new("REPOSITORY[:TAG]") { Description = "Name for the image.", Arity = ArgumentArity.ZeroOrOne };
        Option<string[]> changes = new("--change", "-c") { Description = "Apply Dockerfile instruction to the created image (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR).", AllowMultipleArgumentsPerToken = false };
        Option<string?> message = new("--message", "-m") { Description = "Set commit message for imported image." };
        Option<string?> platform = new("--platform") { Description = "Set platform if server is multi-platform capable (e.g. linux/arm64)." };
        var command = new Command("import", "Import the contents from a tarball to create a filesystem image.") { source, repository, changes, message, platform };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            string from = parseResult.GetRequiredValue(source);
            Reference? name = parseResult.GetValue(repository) is { } r ? BuildCommand.ParseReference(r) : null;
            Platform target = parseResult.GetValue(platform) is { } p ? Platform.Parse(p) : Platform.Current;
            bool url = from.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || from.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
            var request = new ImportRequest(url ? from : "-", target, parseResult.GetValue(changes) ?? [], parseResult.GetValue(message), DateTimeOffset.UtcNow);
            ImageImporter.ApplyChanges(request.Changes); // a bad --change fails before anything is read
            using HttpClient http = BuildCommand.CreateHttpClient();
            await using Stream stream = await OpenAsync(from, url, http, token);
            (_, Digest id) = await new ImageImporter(new LocalImages(GlobalOptions.ResolveRoot(parseResult))).ImportAsync(stream, request, name, token);
            Console.WriteLine(id.ToString());
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static async Task<Stream> OpenAsync(string source, bool url, HttpClient http, CancellationToken cancellationToken)
    {
        if (source == "-") { return Console.OpenStandardInput(); }
        if (!url) { return File.Exists(source) ? File.OpenRead(source) : throw new BuildException($"open {source}: no such file or directory"); }
        HttpResponseMessage response = await http.GetAsync(new Uri(source), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            response.Dispose();
            throw new BuildException($"Downloading {source} failed: {(int)response.StatusCode} {response.ReasonPhrase}.");
        }
        return await response.Content.ReadAsStreamAsync(cancellationToken);
    }
}
