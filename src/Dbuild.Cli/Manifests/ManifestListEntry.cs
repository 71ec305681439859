using System.Text.Json;
using Dbuild.Oci;

namespace Dbuild.Cli.Manifests;

/// <summary>The platform of a manifest list entry as docker writes it (no normalisation: <c>arm64</c>/<c>v8</c> stays as given).</summary>
internal sealed record ListPlatform(string Architecture, string Os)
{
    public string? OsVersion { get; init; }
    public IReadOnlyList<string> OsFeatures { get; init; } = [];
    public string? Variant { get; init; }
    public override string ToString() => $"{Os}/{Architecture}" + (Variant is { Length: > 0 } v ? "/" + v : "");

    /// <summary>Reads an OCI/docker <c>platform</c> object (or an image config's top level) word for word.</summary>
    public static ListPlatform FromJson(JsonElement element)
    {
        static string? Text(JsonElement e, string name) => e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        return new ListPlatform(Text(element, "architecture") ?? "", Text(element, "os") ?? "")
        {
            OsVersion = Text(element, "os.version"),
            OsFeatures = element.TryGetProperty("os.features", out JsonElement f) && f.ValueKind == JsonValueKind.Array ? [.. f.EnumerateArray().Select(x => x.GetString() ?? "")] : [],
            Variant = Text(element, "variant"),
        };
    }
}

/// <summary>One image of a local manifest list: where it came from, its manifest bytes and the platform it is listed for.</summary>
internal sealed record ManifestListEntry(Reference Source, string MediaType, byte[] Raw, ListPlatform Platform)
{
    public Digest Digest { get; } = Digest.Compute(Raw);
    public long Size => Raw.LongLength;
}
