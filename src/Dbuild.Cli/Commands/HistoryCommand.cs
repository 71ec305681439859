using System.CommandLine;
using Dbuild.Oci;
using Dbuild.Solver;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild history IMAGE</c>: the image's history, newest first, as docker prints it.</summary>
internal static class HistoryCommand
{
    public static Command Create()
    {
        Argument<string> image = new("image") { Description = "Name or ID in the local store." };
        Option<bool> noTrunc = new("--no-trunc") { Description = "Do not truncate the CREATED BY column." };
        var command = new Command("history", "Show the history of an image.") { image, noTrunc };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            var images = new LocalImages(GlobalOptions.ResolveRoot(parseResult));
            LocalImage found = await images.FindAsync(parseResult.GetRequiredValue(image), token);
            (ImageManifest manifest, ImageConfig config) = await images.ReadImageAsync(found.Manifest, token);
            var rows = new List<string>();
            int layer = 0;
            foreach (HistoryEntry entry in config.History ?? [])
            {
                long size = entry.EmptyLayer || layer >= manifest.Layers.Count ? 0 : manifest.Layers[layer++].Size;
                string by = entry.CreatedBy ?? "";
                if (!parseResult.GetValue(noTrunc) && by.Length > 45) { by = by[..44] + "…"; }
                rows.Add($"{entry.Created?.UtcDateTime:yyyy-MM-dd HH:mm:ss}  {by,-46} {ImagesCommand.Size(size),-8} {entry.Comment}");
            }
            Console.WriteLine($"{"CREATED",-20} {"CREATED BY",-46} {"SIZE",-8} COMMENT");
            foreach (string row in Enumerable.Reverse(rows)) { Console.WriteLine(row); }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
