using System.Text.RegularExpressions;

namespace Dbuild.Registry.Api;

/// <summary>What a <c>/v2/…</c> path addresses.</summary>
internal enum DistributionRoute
{
    Base,
    Catalog,
    Tags,
    Manifest,
    Blob,
    UploadStart,
    Upload,
    Referrers,
}

/// <summary>
/// A parsed <c>/v2/…</c> path. Repository names contain <c>/</c>, which route templates cannot express mid-path, so the
/// whole path is matched from its end: <c>&lt;name&gt;/manifests/&lt;ref&gt;</c>, <c>&lt;name&gt;/blobs/uploads/&lt;id&gt;</c>, …
/// </summary>
/// <remarks>https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#endpoints</remarks>
internal sealed partial record DistributionPath(DistributionRoute Route, string Name = "", string Reference = "")
{
    /// <summary>Longest repository name registry:2 accepts.</summary>
    public const int MaxNameLength = 255;

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();

    public static bool IsValidName(string name) => name.Length is > 0 and <= MaxNameLength && NamePattern().IsMatch(name);

    public static bool IsValidTag(string tag) => TagPattern().IsMatch(tag);

    /// <summary>
    /// Parses the part after <c>/v2/</c>. False means no endpoint has that shape (404); a route with an invalid name still
    /// parses, so the caller can answer NAME_INVALID.
    /// </summary>
    public static bool TryParse(string? path, out DistributionPath result)
    {
        result = new DistributionPath(DistributionRoute.Base);
        path ??= "";
        if (path.StartsWith('/')) { path = path[1..]; }
        if (path.Length == 0) { return true; }
        if (path is "_catalog" or "_catalog/") { result = new DistributionPath(DistributionRoute.Catalog); return true; }
        bool trailingSlash = path.EndsWith('/');
        string[] parts = (trailingSlash ? path[..^1] : path).Split('/');
        int n = parts.Length;
        if (n >= 3 && parts[^1] == "uploads" && parts[^2] == "blobs")
        {
            return Make(DistributionRoute.UploadStart, parts, 2, "", out result);
        }
        if (trailingSlash) { return false; }
        if (n >= 3 && parts[^1] == "list" && parts[^2] == "tags") { return Make(DistributionRoute.Tags, parts, 2, "", out result); }
        if (n >= 4 && parts[^2] == "uploads" && parts[^3] == "blobs") { return Make(DistributionRoute.Upload, parts, 3, parts[^1], out result); }
        if (n >= 3 && parts[^2] == "manifests") { return Make(DistributionRoute.Manifest, parts, 2, parts[^1], out result); }
        if (n >= 3 && parts[^2] == "blobs") { return Make(DistributionRoute.Blob, parts, 2, parts[^1], out result); }
        if (n >= 3 && parts[^2] == "referrers") { return Make(DistributionRoute.Referrers, parts, 2, parts[^1], out result); }
        return false;
    }

    private static bool Make(DistributionRoute route, string[] parts, int suffix, string reference, out DistributionPath result)
    {
        result = new DistributionPath(route, string.Join('/', parts[..^suffix]), reference);
        return route is DistributionRoute.UploadStart or DistributionRoute.Tags || reference.Length > 0;
    }
}
