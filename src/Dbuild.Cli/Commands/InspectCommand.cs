using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dbuild.Cli.Formatting;
using Dbuild.Solver;

namespace Dbuild.Cli.Commands;

/// <summary>
/// <c>dbuild inspect IMAGE…</c> and <c>dbuild image inspect</c>: docker's image JSON for each image in one array, or
/// with <c>-f</c> a template's line per image; images that are not there are named on stderr afterwards (exit 1).
/// </summary>
internal static class InspectCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, IndentSize = 4, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <param name="missingWord">What a name that is not there is called: docker's <c>inspect</c> says object, <c>image inspect</c> image.</param>
    public static Command Create(string missingWord = "object")
    {
        Argument<string[]> names = new("IMAGE") { Description = "Names or IDs in the local store.", Arity = ArgumentArity.OneOrMore };
        Option<string?> format = new("--format", "-f") { Description = "Format the output using the given Go template." };
        var command = new Command("inspect", "Display detailed information on one or more images.") { names, format };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            DockerTemplate? template = parseResult.GetValue(format) is { Length: > 0 } f ? DockerTemplate.ParseInspect(f) : null;
            var images = new LocalImages(GlobalOptions.ResolveRoot(parseResult));
            IReadOnlyList<ImageSummary> all = await ImageSummary.LoadAllAsync(images, token);
            var found = new List<JsonObject>();
            var missing = new List<string>();
            foreach (string name in parseResult.GetRequiredValue(names))
            {
                if ((ImageFilters.Find(all, name) ?? await FindByManifestAsync(images, all, name, token)) is not { } image) { missing.Add(name); continue; }
                JsonObject json = ImageInspectJson.Build(image, await ImageSummary.ReadConfigJsonAsync(images, image.Manifest, token));
                if (template is null) { found.Add(json); continue; }
                string line;
                try
                {
                    line = template.ExecuteTypedThenRaw(ImageInspectTyped.Build(json), GoFormat.FromJson(json));
                }
                catch (TemplateExecutionException)
                {
                    Console.WriteLine(); // docker flushes its (empty) output before the error
                    throw;
                }
                Console.WriteLine(line);
            }
            if (template is null) { Console.WriteLine(GoEscape(new JsonArray([.. found]).ToJsonString(Indented))); }
            foreach (string name in missing) { await Console.Error.WriteLineAsync($"Error: No such {missingWord}: {name}"); }
            return missing.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        }, cancellationToken));
        return command;
    }

    /// <summary>dbuild also finds an image by (a prefix of) its manifest digest.</summary>
    private static async Task<ImageSummary?> FindByManifestAsync(LocalImages images, IReadOnlyList<ImageSummary> all, string name, CancellationToken cancellationToken)
    {
        try
        {
            LocalImage found = await images.FindAsync(name, cancellationToken);
            return all.FirstOrDefault(i => i.Id == found.ImageId);
        }
        catch (BuildException)
        {
            return null;
        }
    }

    /// <summary>Go's encoding/json escapes &lt;, &gt; and &amp; (they occur only inside strings).</summary>
    private static string GoEscape(string json) => json.Replace("<", "\\u003c", StringComparison.Ordinal)
        .Replace(">", "\\u003e", StringComparison.Ordinal).Replace("&", "\\u0026", StringComparison.Ordinal);
}
