using System.Text.Json.Nodes;
using Dbuild.Oci;
using Dbuild.Solver;

namespace Dbuild.Cli.Commands;

/// <summary>
/// One local image as docker's image list sees it (<c>types.ImageSummary</c>): its ID, every tag and
/// <c>repository@digest</c> that names it, creation time, docker's size (its layers unpacked) and labels.
/// </summary>
internal sealed record ImageSummary(Digest Id, Descriptor Manifest, IReadOnlyList<Reference> RepoTags, IReadOnlyList<Reference> RepoDigests)
{
    /// <summary>The config's creation time, if it has one.</summary>
    public DateTimeOffset? Created { get; init; }

    /// <summary>Seconds since the epoch, as docker's API carries it (0 when the config has no time).</summary>
    public long CreatedUnix => Created?.ToUnixTimeSeconds() ?? 0;

    public long Size { get; init; }

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>No tag and no digest names it.</summary>
    public bool Dangling => RepoTags.Count == 0 && RepoDigests.Count == 0;

    /// <summary>Every image of the store, one summary per image ID, tags sorted as docker's reference store sorts them.</summary>
    public static async Task<IReadOnlyList<ImageSummary>> LoadAllAsync(LocalImages images, CancellationToken cancellationToken)
    {
        var sizes = new LayerSizes(images.Store);
        var digests = new RepoDigests(images.Store);
        var result = new List<ImageSummary>();
        foreach (IGrouping<Digest, LocalImage> group in (await images.ListAsync(cancellationToken)).GroupBy(i => i.ImageId))
        {
            LocalImage first = group.First();
            (ImageManifest manifest, ImageConfig config) = await images.ReadImageAsync(first.Manifest, cancellationToken);
            var tags = group.Where(i => !i.Dangling && i.Name.Length > 0)
                .Select(i => Reference.TryParse(i.Name, out Reference? r, out _) ? r : null).OfType<Reference>()
                .DistinctBy(r => r.ToString()).OrderBy(r => r.ToString(), StringComparer.Ordinal).ToList();
            result.Add(new ImageSummary(group.Key, first.Manifest, tags, await digests.GetAsync(group.Key, cancellationToken))
            {
                Created = config.Created,
                Size = await sizes.GetImageSizeAsync(manifest, cancellationToken),
                Labels = config.Config?.Labels ?? new Dictionary<string, string>(),
            });
        }
        return result;
    }

    /// <summary>The raw config JSON of the image, for inspect.</summary>
    public static async Task<JsonObject> ReadConfigJsonAsync(LocalImages images, Descriptor manifest, CancellationToken cancellationToken)
    {
        (ImageManifest m, _) = await images.ReadImageAsync(manifest, cancellationToken);
        byte[] bytes = await images.Store.ReadBlobBytesAsync(m.Config.Digest, cancellationToken: cancellationToken);
        return JsonNode.Parse(bytes) as JsonObject ?? [];
    }
}
