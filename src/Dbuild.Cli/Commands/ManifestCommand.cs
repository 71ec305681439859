using System.CommandLine;
using System.Text;
using System.Text.Json;
using Dbuild.Oci;
using Dbuild.Registry.Client;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild manifest inspect REF</c>: the manifest or index a registry serves, pretty-printed.</summary>
internal static class ManifestCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        Argument<string> reference = new("reference") { Description = "Image reference, e.g. 127.0.0.1:5000/app:1." };
        var inspect = new Command("inspect", "Print the manifest or index a registry serves for a reference.") { reference };
        inspect.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            Reference r = BuildCommand.ParseReference(parseResult.GetRequiredValue(reference));
            using HttpClient http = BuildCommand.CreateHttpClient();
            ManifestResponse manifest = await BuildCommand.CreateRegistryClient(http).GetManifestAsync(r.Registry, r.Repository, r.ManifestReference, token);
            using JsonDocument document = JsonDocument.Parse(manifest.Content);
            Console.WriteLine(JsonSerializer.Serialize(document.RootElement, Indented));
            Console.Error.WriteLine($"{manifest.MediaType} {manifest.Digest} ({manifest.Size} bytes)");
            _ = Encoding.UTF8;
            return ExitCodes.Ok;
        }, cancellationToken));
        return new Command("manifest", "Inspect manifests in registries.") { inspect };
    }
}
