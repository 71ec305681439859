using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dbuild.Oci;
using Dbuild.Solver;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild inspect IMAGE</c>: id, digests, names and config as JSON (docker image inspect's main fields).</summary>
internal static class InspectCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        Argument<string> image = new("image") { Description = "Name or ID in the local store." };
        var command = new Command("inspect", "Show an image's ID, digest and config.") { image };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            var images = new LocalImages(GlobalOptions.ResolveRoot(parseResult));
            LocalImage found = await images.FindAsync(parseResult.GetRequiredValue(image), token);
            (ImageManifest manifest, ImageConfig config) = await images.ReadImageAsync(found.Manifest, token);
            var names = (await images.ListAsync(token)).Where(i => !i.Dangling && i.Manifest.Digest == found.Manifest.Digest).Select(i => i.Name).ToList();
            var result = new JsonObject
            {
                ["Id"] = found.ImageId.ToString(),
                ["RepoTags"] = new JsonArray([.. names.Select(n => (JsonNode)JsonValue.Create(n)!)]),
                ["ManifestDigest"] = found.Manifest.Digest.ToString(),
                ["ManifestMediaType"] = manifest.MediaType,
                ["Created"] = config.Created?.ToString("O"),
                ["Architecture"] = config.Architecture,
                ["Os"] = config.Os,
                ["Size"] = found.Size,
                ["Layers"] = new JsonArray([.. manifest.Layers.Select(l => (JsonNode)JsonValue.Create(l.Digest.ToString())!)]),
                ["Config"] = JsonNode.Parse(config.ToJsonBytes())?["config"]?.DeepClone(),
                ["RootFS"] = new JsonObject { ["Type"] = "layers", ["Layers"] = new JsonArray([.. config.RootFs.DiffIds.Select(d => (JsonNode)JsonValue.Create(d.ToString())!)]) },
            };
            if (config.Variant is { Length: > 0 } variant) { result.Insert(result.IndexOf("Os"), "Variant", variant); } // docker: omitted when empty
            Console.WriteLine(new JsonArray(result).ToJsonString(Indented));
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
