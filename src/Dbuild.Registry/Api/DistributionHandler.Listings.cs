using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Serialization;
using Dbuild.Oci;
using Microsoft.AspNetCore.Http;

namespace Dbuild.Registry.Api;

internal sealed partial class DistributionHandler
{
    /// <summary>
    /// Per repository, what each manifest revision says about referrers (null: it has no subject). A revision's bytes
    /// never change, so an entry stays true; the revisions themselves are listed from storage on every request, so
    /// manifests pushed or deleted through another process sharing the storage are seen at once.
    /// </summary>
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Digest, ReferrerEntry?>> _referrers = new(StringComparer.Ordinal);

    private async Task GetTagsAsync(HttpContext context, string name, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> tags = (proxy.Route(name) is { } mirrored
            ? await proxy.ListTagsAsync(mirrored, name, cancellationToken).ConfigureAwait(false)
            : await storage.ListTagsAsync(name, cancellationToken).ConfigureAwait(false))
            ?? throw DistributionErrors.NameUnknownError(name);
        IReadOnlyList<string> page = Paginate(context, tags, $"/v2/{name}/tags/list");
        await WriteJsonAsync(context, 200, new TagList(name, page), "application/json").ConfigureAwait(false);
    }

    private async Task GetCatalogAsync(HttpContext context, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> repositories = bearer.Visible(context, await storage.ListRepositoriesAsync(cancellationToken).ConfigureAwait(false));
        IReadOnlyList<string> page = Paginate(context, repositories, "/v2/_catalog");
        await WriteJsonAsync(context, 200, new Catalog(page), "application/json").ConfigureAwait(false);
    }

    /// <summary>Applies <c>n</c> and <c>last</c> to a sorted list and adds <c>Link: &lt;…&gt;; rel="next"</c> when more remain.</summary>
    private static List<string> Paginate(HttpContext context, IReadOnlyList<string> sorted, string path)
    {
        IQueryCollection query = context.Request.Query;
        string? last = query.TryGetValue("last", out var lastValue) ? lastValue.ToString() : null;
        int? n = null;
        if (query.TryGetValue("n", out var nValue))
        {
            if (!int.TryParse(nValue.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out int parsed))
            {
                throw DistributionErrors.PaginationInvalidError(nValue.ToString());
            }
            n = parsed;
        }
        IEnumerable<string> rest = last is null ? sorted : sorted.Where(s => string.CompareOrdinal(s, last) > 0);
        List<string> remaining = [.. rest];
        if (n is not { } count || remaining.Count <= count) { return n == 0 ? [] : remaining; }
        List<string> page = remaining[..count];
        if (count > 0)
        {
            context.Response.Headers.Link = $"<{path}?n={count}&last={Uri.EscapeDataString(page[^1])}>; rel=\"next\"";
        }
        return page;
    }

    private async Task GetReferrersAsync(HttpContext context, string name, string reference, CancellationToken cancellationToken)
    {
        Digest subject = ParseDigest(reference);
        string? artifactType = context.Request.Query.TryGetValue("artifactType", out var filter) ? filter.ToString() : null;
        IReadOnlyList<ReferrerEntry> all = await GetReferrerEntriesAsync(name, cancellationToken).ConfigureAwait(false);
        var descriptors = all.Where(e => e.Subject == subject && (artifactType is null || e.Descriptor.ArtifactType == artifactType))
            .Select(e => e.Descriptor).OrderBy(d => d.Digest, StringComparer.Ordinal).ToList();
        if (artifactType is not null) { context.Response.Headers["OCI-Filters-Applied"] = "artifactType"; }
        var index = new ReferrersIndex(2, MediaTypes.OciIndex, descriptors);
        await WriteJsonAsync(context, 200, index, MediaTypes.OciIndex).ConfigureAwait(false);
    }

    private async Task<IReadOnlyList<ReferrerEntry>> GetReferrerEntriesAsync(string name, CancellationToken cancellationToken)
    {
        // Scanning the revisions keeps the layout registry:2's (no extra index on disk) and works on its data too.
        ConcurrentDictionary<Digest, ReferrerEntry?> known = _referrers.GetOrAdd(name, _ => new ConcurrentDictionary<Digest, ReferrerEntry?>());
        var entries = new List<ReferrerEntry>();
        foreach (Digest revision in await storage.ListRevisionsAsync(name, cancellationToken).ConfigureAwait(false))
        {
            if (!known.TryGetValue(revision, out ReferrerEntry? entry))
            {
                byte[]? content = await storage.GetManifestAsync(name, revision, cancellationToken).ConfigureAwait(false);
                if (content is null) { continue; } // deleted meanwhile
                entry = ReferrerOf(revision, content);
                known[revision] = entry;
            }
            if (entry is not null) { entries.Add(entry); }
        }
        return entries;
    }

    private static ReferrerEntry? ReferrerOf(Digest revision, byte[] content)
    {
        ManifestInfo info;
        try { info = ManifestInfo.Parse(content, null); }
        catch (DistributionException) { return null; }
        return info.Subject is { } subject
            ? new ReferrerEntry(subject, new ReferrerDescriptor(info.MediaType, revision.ToString(), content.Length, info.ArtifactType, info.Annotations))
            : null;
    }

    private sealed record ReferrerEntry(Digest Subject, ReferrerDescriptor Descriptor);

    private sealed record TagList(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("tags")] IReadOnlyList<string> Tags);

    private sealed record Catalog([property: JsonPropertyName("repositories")] IReadOnlyList<string> Repositories);

    private sealed record ReferrerDescriptor(
        [property: JsonPropertyName("mediaType")] string MediaType,
        [property: JsonPropertyName("digest")] string Digest,
        [property: JsonPropertyName("size")] long Size,
        [property: JsonPropertyName("artifactType"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ArtifactType,
        [property: JsonPropertyName("annotations"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? Annotations);

    private sealed record ReferrersIndex(
        [property: JsonPropertyName("schemaVersion")] int SchemaVersion,
        [property: JsonPropertyName("mediaType")] string MediaType,
        [property: JsonPropertyName("manifests")] IReadOnlyList<ReferrerDescriptor> Manifests);
}
