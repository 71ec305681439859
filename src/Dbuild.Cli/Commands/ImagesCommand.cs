using System.CommandLine;
using System.Globalization;
using Dbuild.Solver;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild images</c>: the local store's tagged images.</summary>
internal static class ImagesCommand
{
    public static Command Create()
    {
        Option<bool> quiet = new("--quiet", "-q") { Description = "Only image IDs." };
        Option<bool> digests = new("--digests") { Description = "Show manifest digests." };
        var command = new Command("images", "List images in the local store.") { quiet, digests };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            var images = new LocalImages(GlobalOptions.ResolveRoot(parseResult));
            IReadOnlyList<LocalImage> list = await images.ListAsync(token);
            if (parseResult.GetValue(quiet))
            {
                foreach (string id in list.Select(i => i.ImageId.Encoded[..12]).Distinct()) { Console.WriteLine(id); }
                return ExitCodes.Ok;
            }
            bool showDigests = parseResult.GetValue(digests);
            Console.WriteLine(showDigests ? $"{"REPOSITORY",-40} {"TAG",-16} {"DIGEST",-71} {"IMAGE ID",-12} {"CREATED",-20} SIZE"
                : $"{"REPOSITORY",-40} {"TAG",-16} {"IMAGE ID",-12} {"CREATED",-20} SIZE");
            foreach (LocalImage image in list)
            {
                (string repository, string tag) = Split(image.Name);
                string created = image.Created?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "";
                string size = Size(image.Size);
                Console.WriteLine(showDigests
                    ? $"{repository,-40} {tag,-16} {image.Manifest.Digest,-71} {image.ImageId.Encoded[..12],-12} {created,-20} {size}"
                    : $"{repository,-40} {tag,-16} {image.ImageId.Encoded[..12],-12} {created,-20} {size}");
            }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    internal static (string Repository, string Tag) Split(string name)
    {
        if (name.Length == 0) { return ("<none>", "<none>"); } // a dangling image
        if (Dbuild.Oci.Reference.TryParse(name, out Dbuild.Oci.Reference? reference, out _))
        {
            return (reference.FamiliarRepository, reference.Tag ?? "<none>");
        }
        return (name, "<none>");
    }

    internal static string Size(long bytes) => bytes switch
    {
        >= 1_000_000_000 => (bytes / 1e9).ToString("0.##", CultureInfo.InvariantCulture) + "GB",
        >= 1_000_000 => (bytes / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + "MB",
        >= 1_000 => (bytes / 1e3).ToString("0.##", CultureInfo.InvariantCulture) + "kB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + "B",
    };
}
