using System.Text;
using Dbuild.Oci;

namespace Dbuild.Solver.Attestations;

/// <summary>
/// Package URLs as BuildKit and syft write them (packageurl-go's encoding): <c>pkg:docker/alpine@3.17?platform=linux%2Famd64</c>,
/// <c>pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&amp;distro=debian-12</c>. Qualifiers are sorted by key.
/// </summary>
/// <remarks>https://github.com/package-url/purl-spec/blob/master/PURL-SPECIFICATION.rst</remarks>
internal static class Purl
{
    public static string Create(string type, string? ns, string name, string? version, IEnumerable<KeyValuePair<string, string?>> qualifiers)
    {
        var text = new StringBuilder("pkg:").Append(type).Append('/');
        if (!string.IsNullOrEmpty(ns)) { text.AppendJoin('/', ns.Split('/').Select(s => Escape(s, keepColon: true))).Append('/'); }
        text.Append(Escape(name, keepColon: true));
        if (!string.IsNullOrEmpty(version)) { text.Append('@').Append(Escape(version, keepColon: true)); }
        var present = qualifiers.Where(q => !string.IsNullOrEmpty(q.Value)).OrderBy(q => q.Key, StringComparer.Ordinal).ToList();
        if (present.Count > 0) { text.Append('?').AppendJoin('&', present.Select(q => q.Key + "=" + Escape(q.Value!, keepColon: false))); }
        return text.ToString();
    }

    /// <summary>BuildKit's RefToPURL: a base image as <c>pkg:docker/NAMESPACE/NAME@TAG?digest=…&amp;platform=…</c>, names as docker shows them.</summary>
    public static string ForImage(Reference reference, Platform? platform)
    {
        ArgumentNullException.ThrowIfNull(reference);
        string familiar = reference.FamiliarRepository;
        int slash = familiar.LastIndexOf('/');
        string? ns = slash < 0 ? null : familiar[..slash];
        string name = familiar[(slash + 1)..];
        string? tag = reference.Digest is null ? reference.Tag ?? Reference.DefaultTag : reference.Tag;
        return Create("docker", ns, name, tag,
            [new("digest", reference.Digest?.ToString()), new("platform", platform?.ToString())]);
    }

    // Go's url.PathEscape for segments and url.QueryEscape-like for qualifier values, which is what packageurl-go uses:
    // unreserved characters and (in paths) the sub-delimiters a path segment may hold stay as they are.
    private static string Escape(string value, bool keepColon)
    {
        var text = new StringBuilder(value.Length);
        foreach (byte b in Encoding.UTF8.GetBytes(value))
        {
            char c = (char)b;
            bool plain = char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '+'
                || (keepColon && c is ':' or '@' or '&' or '=' or '$' or '!' or '*' or '\'' or '(' or ')');
            if (plain) { text.Append(c); } else { text.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)); }
        }
        return text.ToString();
    }
}
