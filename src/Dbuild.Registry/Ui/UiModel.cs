using Dbuild.Oci;

namespace Dbuild.Registry.Ui;

/// <summary>One page of a sorted list and whether more follow.</summary>
internal sealed record UiPage<T>(IReadOnlyList<T> Items, int Page, bool HasMore, int Total);

/// <summary>A row of the tags page: where the tag points, what it is, how big, when it was pushed.</summary>
internal sealed record UiTag(string Name, Digest Digest, string MediaType, long Size, int Platforms, DateTimeOffset? Pushed);

/// <summary>A descriptor as the pages show it: a layer, the config, a child of an index or a referrer.</summary>
internal sealed record UiDescriptor(string MediaType, string Digest, long Size, string? Platform = null, string? ArtifactType = null,
    IReadOnlyDictionary<string, string>? Annotations = null);

/// <summary>One entry of the image config's <c>history</c>.</summary>
internal sealed record UiHistory(string? Created, string CreatedBy, bool EmptyLayer);

/// <summary>A manifest or index and what the page shows about it.</summary>
internal sealed record UiManifest(
    string Name,
    string Reference,
    Digest Digest,
    string MediaType,
    long ManifestSize,
    string? ArtifactType,
    string? Subject,
    UiDescriptor? Config,
    IReadOnlyList<UiDescriptor> Layers,
    IReadOnlyList<UiDescriptor> Children,
    string? Platform,
    string? Created,
    IReadOnlyList<UiHistory> History,
    IReadOnlyList<UiDescriptor> Referrers,
    IReadOnlyDictionary<string, string>? Annotations)
{
    public bool IsIndex => Children.Count > 0 || MediaTypes.IsIndex(MediaType);

    /// <summary>Config and layers: what a pull of this one image downloads.</summary>
    public long ImageSize => (Config?.Size ?? 0) + Layers.Sum(l => l.Size);
}
