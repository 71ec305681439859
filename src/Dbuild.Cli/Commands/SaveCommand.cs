using System.CommandLine;
using Dbuild.Oci;
using Dbuild.Solver;
using Dbuild.Solver.Store;

namespace Dbuild.Cli.Commands;

/// <summary>
/// <c>dbuild save [-o FILE] [--format docker|oci] IMAGE…</c>: docker's save (a docker-archive <c>docker load</c> reads),
/// or with <c>--format oci</c> an OCI layout tar; to stdout when it is not a terminal.
/// </summary>
internal static class SaveCommand
{
    public static Command Create()
    {
        Argument<string[]> imagesArgument = new("image") { Description = "Names or IDs.", Arity = ArgumentArity.OneOrMore };
        Option<string?> output = new("--output", "-o") { Description = "Write to a file, instead of STDOUT." };
        Option<string> format = new("--format") { Description = "docker (docker load's archive, the default) or oci (an OCI image layout tar).", DefaultValueFactory = _ => "docker" };
        var command = new Command("save", "Save one or more images to a tar archive (streamed to STDOUT by default).") { imagesArgument, output, format };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            string kind = parseResult.GetValue(format) ?? "docker";
            if (kind is not ("docker" or "oci")) { throw new UsageException($"invalid --format '{kind}': use docker or oci"); }
            string? file = parseResult.GetValue(output);
            if (file is null && !Console.IsOutputRedirected) { throw new BuildException("cowardly refusing to save to a terminal. Use the -o flag or redirect"); }
            var images = new LocalImages(GlobalOptions.ResolveRoot(parseResult));
            IReadOnlyList<SaveItem> items = await ResolveAsync(images, parseResult.GetRequiredValue(imagesArgument), token);
            string? temp = file is null ? null : file + $".{Guid.NewGuid():N}.tmp";
            try
            {
                await using (Stream stream = temp is null ? Console.OpenStandardOutput() : File.Create(temp))
                {
                    if (kind == "oci") { await new OciArchiveWriter(images).WriteAsync(items, stream, token); }
                    else { await new DockerArchiveWriter(images).WriteAsync(items, stream, token); }
                }
                if (temp is not null) { File.Move(temp, file!, overwrite: true); }
            }
            finally
            {
                if (temp is not null && File.Exists(temp)) { File.Delete(temp); }
            }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    /// <summary>The images to save, one item per image with every name it was given by (none when given by ID).</summary>
    internal static async Task<IReadOnlyList<SaveItem>> ResolveAsync(LocalImages images, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var items = new List<SaveItem>();
        IReadOnlyList<LocalImage> all = await images.ListAsync(cancellationToken);
        foreach (string argument in arguments)
        {
            // docker: a repository without tag or digest saves every tag of it.
            bool nameOnly = !argument.Contains('@', StringComparison.Ordinal) && !argument[(argument.LastIndexOf('/') + 1)..].Contains(':', StringComparison.Ordinal);
            List<LocalImage> tagged = nameOnly && Reference.TryParse(argument, out Reference? repository, out _)
                ? [.. all.Where(i => !i.Dangling && Reference.TryParse(i.Name, out Reference? r, out _) && r.Name == repository.Name)] : [];
            foreach (LocalImage image in tagged.Count > 0 ? tagged : [await images.FindAsync(argument, cancellationToken)])
            {
                bool byName = !image.Dangling && (tagged.Count > 0 || (Reference.TryParse(argument, out Reference? reference, out _) && reference.ToString() == image.Name));
                int existing = items.FindIndex(i => i.Image.Manifest.Digest == image.Manifest.Digest);
                IReadOnlyList<string> names = byName ? [image.Name] : [];
                if (existing < 0) { items.Add(new SaveItem(image, names)); }
                else { items[existing] = items[existing] with { Names = [.. items[existing].Names.Union(names, StringComparer.Ordinal)] }; }
            }
        }
        return items;
    }
}
