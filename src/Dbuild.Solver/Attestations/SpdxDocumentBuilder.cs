using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Dbuild.Oci;

namespace Dbuild.Solver.Attestations;

/// <summary>
/// An SPDX 2.3 JSON document listing an image's packages, in the shape BuildKit's syft scanner writes (one package per
/// installed package, with a <c>pkg:deb</c>/<c>pkg:apk</c> purl as a PACKAGE-MANAGER external reference, and where it
/// was found in <c>sourceInfo</c>), the predicate of an in-toto statement of type https://spdx.dev/Document.
/// Deterministic: the namespace hashes the image and its packages, and <c>created</c> is SOURCE_DATE_EPOCH when set.
/// </summary>
/// <remarks>https://spdx.github.io/spdx-spec/v2.3/</remarks>
internal static class SpdxDocumentBuilder
{
    public const string PredicateType = "https://spdx.dev/Document";

    public static JsonObject Build(SbomScan scan, string name, Digest image, DateTimeOffset created)
    {
        ArgumentNullException.ThrowIfNull(scan);
        var ordered = scan.Packages.OrderBy(p => p.Type, StringComparer.Ordinal).ThenBy(p => p.Name, StringComparer.Ordinal)
            .ThenBy(p => p.Version, StringComparer.Ordinal).ToList();
        var packages = new JsonArray();
        var relationships = new JsonArray();
        foreach (InstalledPackage package in ordered)
        {
            string id = SpdxId(package);
            packages.Add(Package(package, id, scan.OsRelease));
            relationships.Add(new JsonObject { ["spdxElementId"] = "SPDXRef-DOCUMENT", ["relatedSpdxElement"] = id, ["relationshipType"] = "DESCRIBES" });
        }
        string identity = image + "\n" + string.Join('\n', ordered.Select(p => $"{p.Type}/{p.Name}@{p.Version}"));
        var creationInfo = new JsonObject
        {
            ["licenseListVersion"] = "3.20",
            ["creators"] = new JsonArray("Organization: dbuild", "Tool: dbuild"),
            ["created"] = created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        };
        if (scan.Warnings.Count > 0) { creationInfo["comment"] = string.Join("; ", scan.Warnings); }
        return new JsonObject
        {
            ["spdxVersion"] = "SPDX-2.3",
            ["dataLicense"] = "CC0-1.0",
            ["SPDXID"] = "SPDXRef-DOCUMENT",
            ["name"] = name,
            ["documentNamespace"] = $"https://dbuild.dev/spdx/{Sanitise(name)}-{Digest.Compute(Encoding.UTF8.GetBytes(identity)).Encoded[..32]}",
            ["creationInfo"] = creationInfo,
            ["packages"] = packages,
            ["relationships"] = relationships,
        };
    }

    /// <summary>syft's purl for a package: <c>pkg:deb/debian/libc6@2.36-9?arch=amd64&amp;upstream=glibc&amp;distro=debian-12</c>.</summary>
    public static string PackageUrl(InstalledPackage package, OsRelease? os)
    {
        ArgumentNullException.ThrowIfNull(package);
        string ns = os?.Id ?? (package.Type == "apk" ? "alpine" : "debian");
        return Purl.Create(package.Type, ns, package.Name, package.Version,
            [new("arch", package.Architecture), new("upstream", package.Source), new("distro", os?.Distro)]);
    }

    private static JsonObject Package(InstalledPackage package, string id, OsRelease? os)
    {
        string manager = package.Type == "apk" ? "APK" : "DPKG";
        var entry = new JsonObject
        {
            ["name"] = package.Name,
            ["SPDXID"] = id,
            ["versionInfo"] = package.Version,
            ["supplier"] = package.Maintainer is { Length: > 0 } m ? "Person: " + m.Replace('<', '(').Replace('>', ')') : "NOASSERTION",
            ["downloadLocation"] = "NOASSERTION",
            ["filesAnalyzed"] = false,
            ["sourceInfo"] = $"acquired package info from {manager} DB: {package.Database}",
            ["licenseConcluded"] = "NOASSERTION",
            ["licenseDeclared"] = "NOASSERTION",
            ["copyrightText"] = "NOASSERTION",
            ["externalRefs"] = new JsonArray(new JsonObject
            {
                ["referenceCategory"] = "PACKAGE-MANAGER",
                ["referenceType"] = "purl",
                ["referenceLocator"] = PackageUrl(package, os),
            }),
        };
        if (package.License is { Length: > 0 } license) { entry["licenseComments"] = "as the package database states it: " + license; }
        return entry;
    }

    /// <summary>SPDX ids allow letters, digits, '.' and '-': <c>SPDXRef-Package-deb-libstdc--6-1a2b…</c>, unique by a hash.</summary>
    private static string SpdxId(InstalledPackage p) =>
        $"SPDXRef-Package-{p.Type}-{Sanitise(p.Name)}-{Digest.Compute(Encoding.UTF8.GetBytes($"{p.Type}/{p.Name}@{p.Version}/{p.Architecture}/{p.Database}")).Encoded[..16]}";

    private static string Sanitise(string value) => string.Concat(value.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '-'));
}
