using Dbuild.Oci;

namespace Dbuild.Cli.Manifests;

/// <summary>The platform of a manifest list entry as docker writes it (no normalisation: <c>arm64</c>/<c>v8</c> stays as given).</summary>
internal sealed record ListPlatform(string Architecture, string Os)
{
    public string? OsVersion { get; init; }
    public IReadOnlyList<string> OsFeatures { get; init; } = [];
    public string? Variant { get; init; }
    public override string ToString() => $"{Os}/{Architecture}" + (Variant is { Length: > 0 } v ? "/" + v : "");
}

/// <summary>One image of a local manifest list: where it came from, its manifest bytes and the platform it is listed for.</summary>
internal sealed record ManifestListEntry(Reference Source, string MediaType, byte[] Raw, ListPlatform Platform)
{
    public Digest Digest { get; } = Digest.Compute(Raw);
    public long Size => Raw.LongLength;
}
