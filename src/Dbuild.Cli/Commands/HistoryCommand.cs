using System.CommandLine;
using Dbuild.Cli.Formatting;
using Dbuild.Oci;
using Dbuild.Solver;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild history IMAGE</c> and <c>dbuild image history</c>: the image's history, newest first, as docker prints it.</summary>
internal static class HistoryCommand
{
    private const string HumanTable = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
    private const string NonHumanTable = "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

    public static Command Create()
    {
        Argument<string> image = new("IMAGE") { Description = "Name or ID in the local store." };
        Option<bool> human = new("--human", "-H") { Description = "Print sizes and dates in human readable format.", DefaultValueFactory = _ => true };
        Option<bool> noTrunc = new("--no-trunc") { Description = "Don't truncate output." };
        Option<bool> quiet = new("--quiet", "-q") { Description = "Only show image IDs." };
        Option<string?> format = new("--format") { Description = "Pretty-print history using a Go template." };
        var command = new Command("history", "Show the history of an image.") { image, human, noTrunc, quiet, format };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            bool isHuman = parseResult.GetValue(human);
            string source = parseResult.GetValue(format) is { Length: > 0 } f ? f : "table";
            DockerTemplate template = DockerTemplate.Parse(source != "table" ? source : parseResult.GetValue(quiet) ? "{{.ID}}" : isHuman ? HumanTable : NonHumanTable);
            var images = new LocalImages(GlobalOptions.ResolveRoot(parseResult));
            LocalImage found = await images.FindAsync(parseResult.GetRequiredValue(image), token);
            (ImageManifest manifest, ImageConfig config) = await images.ReadImageAsync(found.Manifest, token);
            var sizes = new LayerSizes(images.Store);
            bool truncate = !parseResult.GetValue(noTrunc);
            DateTimeOffset now = DateTimeOffset.UtcNow;
            var rows = new List<HistoryRowContext>();
            int layer = 0;
            foreach (HistoryEntry entry in config.History ?? [])
            {
                long size = entry.EmptyLayer || layer >= manifest.Layers.Count ? 0 : await sizes.GetAsync(manifest.Layers[layer++].Digest, token);
                rows.Add(new HistoryRowContext("<missing>", entry.Created?.ToUnixTimeSeconds() ?? 0, entry.CreatedBy ?? "", size, entry.Comment ?? "", truncate, isHuman, now));
            }
            rows.Reverse();
            // docker names the image on the newest row; the rows below are layers of no image of their own.
            if (rows.Count > 0)
            {
                HistoryEntry newest = config.History![^1];
                rows[0] = new HistoryRowContext(found.ImageId.ToString(), newest.Created?.ToUnixTimeSeconds() ?? 0, newest.CreatedBy ?? "", rows[0].SizeBytes, newest.Comment ?? "", truncate, isHuman, now);
            }
            Console.Write(template.Render(rows, HistoryRowContext.Header));
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
