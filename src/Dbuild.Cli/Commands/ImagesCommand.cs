using System.CommandLine;
using Dbuild.Cli.Formatting;
using Dbuild.Oci;
using Dbuild.Solver;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild images</c> and <c>dbuild image ls</c>: the local store's images as <c>docker images</c> lists them.</summary>
internal static class ImagesCommand
{
    private const string DefaultTable = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";
    private const string DefaultTableWithDigest = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";

    public static Command Create(string name = "images", params string[] aliases)
    {
        Argument<string?> repository = new("REPOSITORY[:TAG]") { Description = "Only images of this repository (and tag).", Arity = ArgumentArity.ZeroOrOne };
        Option<bool> all = new("--all", "-a") { Description = "Show all images (intermediate ones too; dbuild keeps none)." };
        Option<bool> quiet = new("--quiet", "-q") { Description = "Only show image IDs." };
        Option<bool> digests = new("--digests") { Description = "Show digests." };
        Option<bool> noTrunc = new("--no-trunc") { Description = "Don't truncate output." };
        Option<string[]> filter = new("--filter", "-f") { Description = "Filter output based on conditions provided (dangling, label, before, since, reference).", AllowMultipleArgumentsPerToken = false };
        Option<string?> format = new("--format") { Description = "Pretty-print images using a Go template." };
        var command = new Command(name, "List images in the local store.") { repository, all, quiet, digests, noTrunc, filter, format };
        foreach (string alias in aliases) { command.Aliases.Add(alias); }
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            ImageFilters filters = ImageFilters.Parse(parseResult.GetValue(filter) ?? [], parseResult.GetValue(repository));
            string source = parseResult.GetValue(format) is { Length: > 0 } f ? f : "table";
            bool showDigests = parseResult.GetValue(digests);
            DockerTemplate template = DockerTemplate.Parse(FormatFor(source, parseResult.GetValue(quiet), showDigests));
            var images = new LocalImages(GlobalOptions.ResolveRoot(parseResult));
            IReadOnlyList<ImageSummary> list = filters.Apply(await ImageSummary.LoadAllAsync(images, token));
            bool needDigest = showDigests || source.Contains("{{.Digest}}", StringComparison.Ordinal);
            DateTimeOffset now = DateTimeOffset.UtcNow;
            IEnumerable<object?> rows = list.OrderByDescending(i => i.CreatedUnix).ThenBy(i => i.Id.Encoded, StringComparer.Ordinal)
                .SelectMany(i => Rows(i, needDigest, showDigests, !parseResult.GetValue(noTrunc), now));
            Console.Write(template.Render(rows, ImageRowContext.Header));
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    /// <summary>docker's <c>NewImageFormat</c>: the default tables, <c>-q</c>'s <c>{{.ID}}</c>, a DIGEST column added to a table with --digests.</summary>
    private static string FormatFor(string source, bool quiet, bool digests) => source switch
    {
        "table" when quiet => "{{.ID}}",
        "table" => digests ? DefaultTableWithDigest : DefaultTable,
        _ when source.StartsWith("table", StringComparison.Ordinal) && digests && !source.Contains("{{.Digest}}", StringComparison.Ordinal) => source + "\t{{.Digest}}",
        _ => source,
    };

    /// <summary>docker's rows of one image: one per tag (per tag and digest when digests are shown), then digest-only repositories.</summary>
    private static IEnumerable<ImageRowContext> Rows(ImageSummary image, bool needDigest, bool showDigests, bool truncate, DateTimeOffset now)
    {
        if (image.Dangling)
        {
            yield return new ImageRowContext(image, "<none>", "<none>", "<none>", truncate, now);
            yield break;
        }
        var digestsByRepository = image.RepoDigests.GroupBy(d => d.FamiliarRepository).ToDictionary(g => g.Key, g => g.Select(d => d.Digest!.Value.ToString()).ToList());
        foreach (IGrouping<string, Reference> repository in image.RepoTags.GroupBy(t => t.FamiliarRepository))
        {
            List<string> digests = needDigest ? digestsByRepository.GetValueOrDefault(repository.Key) ?? [] : [];
            digestsByRepository.Remove(repository.Key);
            foreach (Reference tag in repository)
            {
                if (digests.Count == 0) { yield return new ImageRowContext(image, repository.Key, tag.Tag ?? "<none>", "<none>", truncate, now); }
                foreach (string digest in digests) { yield return new ImageRowContext(image, repository.Key, tag.Tag ?? "<none>", digest, truncate, now); }
            }
        }
        foreach ((string repository, List<string> digests) in digestsByRepository.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            if (!showDigests) { yield return new ImageRowContext(image, repository, "<none>", "", truncate, now); continue; }
            foreach (string digest in digests) { yield return new ImageRowContext(image, repository, "<none>", digest, truncate, now); }
        }
    }

    internal static (string Repository, string Tag) Split(string name)
    {
        if (name.Length == 0) { return ("<none>", "<none>"); } // a dangling image
        if (Reference.TryParse(name, out Reference? reference, out _))
        {
            return (reference.FamiliarRepository, reference.Tag ?? "<none>");
        }
        return (name, "<none>");
    }

    internal static string Size(long bytes) => bytes switch
    {
        >= 1_000_000_000 => (bytes / 1e9).ToString("0.##", System.Globalization.CultureInfo.InvariantCulture) + "GB",
        >= 1_000_000 => (bytes / 1e6).ToString("0.##", System.Globalization.CultureInfo.InvariantCulture) + "MB",
        >= 1_000 => (bytes / 1e3).ToString("0.##", System.Globalization.CultureInfo.InvariantCulture) + "kB",
        _ => bytes.ToString(System.Globalization.CultureInfo.InvariantCulture) + "B",
    };
}
