using System.Text.Json;
using Dbuild.Oci;
using Dbuild.Registry.Api;
using Dbuild.Registry.Storage;

namespace Dbuild.Registry.Ui;

/// <summary>
/// What the UI's pages show, read from the registry's storage (so every replica sees the same): the catalog filtered
/// and paged, a repository's tags, and a manifest or index with its config history and referrers.
/// </summary>
internal sealed class UiReader(RegistryStorage storage, UiRepositoryList repositories)
{
    public const int RepositoriesPerPage = 50;
    public const int TagsPerPage = 50;
    private const int MaxConfigBytes = 8 * 1024 * 1024;
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    /// <summary>Repositories the viewer may pull whose name contains <paramref name="query"/> (any case), one page of them.</summary>
    public async Task<UiPage<string>> ListRepositoriesAsync(UiViewer viewer, string query, int page, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> all = await repositories.GetAsync(cancellationToken).ConfigureAwait(false);
        var matching = all.Where(r => (query.Length == 0 || r.Contains(query, StringComparison.OrdinalIgnoreCase)) && viewer.MayPull(r)).ToList();
        return Slice(matching, page, RepositoriesPerPage);
    }

    /// <summary>One page of the repository's tags with what each points at, or null when the repository does not exist.</summary>
    public async Task<UiPage<UiTag>?> ListTagsAsync(string name, int page, CancellationToken cancellationToken)
    {
        IReadOnlyList<string>? tags = await storage.ListTagsAsync(name, cancellationToken).ConfigureAwait(false);
        if (tags is null) { return null; }
        UiPage<string> names = Slice(tags, page, TagsPerPage);
        var rows = new List<UiTag>(names.Items.Count);
        foreach (string tag in names.Items)
        {
            if (await storage.ResolveTagAsync(name, tag, cancellationToken).ConfigureAwait(false) is not { } digest) { continue; }
            byte[]? content = await storage.GetManifestAsync(name, digest, cancellationToken).ConfigureAwait(false);
            if (content is null) { continue; }
            StorageStat? link = await storage.Driver.StatAsync(RegistryStorage.TagCurrentLinkPath(name, tag), cancellationToken).ConfigureAwait(false);
            using JsonDocument document = JsonDocument.Parse(content, DocumentOptions);
            JsonElement root = document.RootElement;
            IReadOnlyList<UiDescriptor> children = Descriptors(root, "manifests");
            long size = children.Count > 0 ? content.Length + children.Sum(c => c.Size)
                : content.Length + (Descriptor(root, "config")?.Size ?? 0) + Descriptors(root, "layers").Sum(l => l.Size);
            rows.Add(new UiTag(tag, digest, storage.ManifestMediaType(digest, content), size, children.Count, link?.Modified));
        }
        return new UiPage<UiTag>(rows, names.Page, names.HasMore, names.Total);
    }

    /// <summary>The manifest a tag or digest names in the repository, or null when there is none.</summary>
    public async Task<UiManifest?> GetManifestAsync(string name, string reference, CancellationToken cancellationToken)
    {
        Digest? resolved = Digest.TryParse(reference, out Digest parsed) ? parsed
            : DistributionPath.IsValidTag(reference) ? await storage.ResolveTagAsync(name, reference, cancellationToken).ConfigureAwait(false) : null;
        if (resolved is not { } digest) { return null; }
        byte[]? content = await storage.GetManifestAsync(name, digest, cancellationToken).ConfigureAwait(false);
        if (content is null) { return null; }
        using JsonDocument document = JsonDocument.Parse(content, DocumentOptions);
        JsonElement root = document.RootElement;
        UiDescriptor? config = Descriptor(root, "config");
        (string? platform, string? created, IReadOnlyList<UiHistory> history) = config is not null && Digest.TryParse(config.Digest, out Digest configDigest)
            ? await ReadConfigAsync(name, configDigest, cancellationToken).ConfigureAwait(false)
            : (null, null, []);
        return new UiManifest(name, reference, digest, storage.ManifestMediaType(digest, content), content.Length, String(root, "artifactType"),
            root.TryGetProperty("subject", out JsonElement subject) ? String(subject, "digest") : null,
            config, Descriptors(root, "layers"), Descriptors(root, "manifests"), platform, created, history,
            await ReferrersAsync(name, digest, cancellationToken).ConfigureAwait(false), Annotations(root));
    }

    private async Task<(string? Platform, string? Created, IReadOnlyList<UiHistory> History)> ReadConfigAsync(string name, Digest digest, CancellationToken cancellationToken)
    {
        if (await storage.StatRepositoryBlobAsync(name, digest, cancellationToken).ConfigureAwait(false) is null) { return (null, null, []); }
        StorageContent? blob;
        try { blob = await storage.Driver.ReadAllAsync(RegistryStorage.BlobDataPath(digest), MaxConfigBytes, cancellationToken).ConfigureAwait(false); }
        catch (InvalidDataException) { return (null, null, []); } // larger than a config page is worth
        if (blob is null) { return (null, null, []); }
        try
        {
            using JsonDocument document = JsonDocument.Parse(blob.Content, DocumentOptions);
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) { return (null, null, []); }
            var history = new List<UiHistory>();
            if (root.TryGetProperty("history", out JsonElement entries) && entries.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement entry in entries.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object))
                {
                    history.Add(new UiHistory(String(entry, "created"), String(entry, "created_by") ?? "",
                        entry.TryGetProperty("empty_layer", out JsonElement empty) && empty.ValueKind == JsonValueKind.True));
                }
            }
            return (Platform(root), String(root, "created"), history);
        }
        catch (JsonException) { return (null, null, []); } // an artifact's config need not be JSON
    }

    /// <summary>Manifests in the repository whose <c>subject</c> is <paramref name="digest"/> (signatures, SBOMs, attestations).</summary>
    private async Task<IReadOnlyList<UiDescriptor>> ReferrersAsync(string name, Digest digest, CancellationToken cancellationToken)
    {
        var referrers = new List<UiDescriptor>();
        foreach (Digest revision in await storage.ListRevisionsAsync(name, cancellationToken).ConfigureAwait(false))
        {
            if (revision == digest || await storage.GetManifestAsync(name, revision, cancellationToken).ConfigureAwait(false) is not { } content) { continue; }
            ManifestInfo info;
            try { info = ManifestInfo.Parse(content, null); }
            catch (DistributionException) { continue; }
            if (info.Subject == digest)
            {
                referrers.Add(new UiDescriptor(info.MediaType, revision.ToString(), content.Length, ArtifactType: info.ArtifactType, Annotations: info.Annotations));
            }
        }
        return referrers;
    }

    private static UiPage<T> Slice<T>(IReadOnlyList<T> all, int page, int size)
    {
        int last = Math.Max(1, (all.Count + size - 1) / size);
        page = Math.Clamp(page, 1, last);
        return new UiPage<T>([.. all.Skip((page - 1) * size).Take(size)], page, page < last, all.Count);
    }

    private static IReadOnlyList<UiDescriptor> Descriptors(JsonElement root, string property) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(property, out JsonElement list) && list.ValueKind == JsonValueKind.Array
            ? [.. list.EnumerateArray().Select(ToDescriptor).OfType<UiDescriptor>()]
            : [];

    private static UiDescriptor? Descriptor(JsonElement root, string property) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(property, out JsonElement value) ? ToDescriptor(value) : null;

    private static UiDescriptor? ToDescriptor(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object || String(element, "digest") is not { } digest) { return null; }
        long size = element.TryGetProperty("size", out JsonElement s) && s.TryGetInt64(out long n) ? n : 0;
        string? platform = element.TryGetProperty("platform", out JsonElement p) ? Platform(p) : null;
        return new UiDescriptor(String(element, "mediaType") ?? "", digest, size, platform, String(element, "artifactType"), Annotations(element));
    }

    /// <summary><c>os/architecture[/variant]</c> of a platform object or an image config.</summary>
    private static string? Platform(JsonElement element) =>
        String(element, "os") is { } os && String(element, "architecture") is { } architecture
            ? String(element, "variant") is { } variant ? $"{os}/{architecture}/{variant}" : $"{os}/{architecture}"
            : null;

    private static Dictionary<string, string>? Annotations(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty("annotations", out JsonElement map) && map.ValueKind == JsonValueKind.Object
            ? map.EnumerateObject().Where(a => a.Value.ValueKind == JsonValueKind.String).ToDictionary(a => a.Name, a => a.Value.GetString()!, StringComparer.Ordinal)
            : null;

    private static string? String(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out JsonElement value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
