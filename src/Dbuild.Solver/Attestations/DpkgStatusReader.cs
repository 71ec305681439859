using System.Text;

namespace Dbuild.Solver.Attestations;

/// <summary>
/// Reads dpkg's database: <c>/var/lib/dpkg/status</c> (a full Debian or Ubuntu image), or one stanza file per package
/// in <c>/var/lib/dpkg/status.d/</c> (distroless images). Stanzas of <c>Field: value</c> lines (continuations start
/// with a space or tab) are separated by blank lines; a package counts when its <c>Status</c> ends in <c>installed</c>
/// (status.d stanzas have no Status: they are installed by being there).
/// </summary>
/// <remarks>https://man7.org/linux/man-pages/man5/deb-control.5.html, https://man7.org/linux/man-pages/man1/dpkg-query.1.html</remarks>
internal static class DpkgStatusReader
{
    public const string StatusPath = "var/lib/dpkg/status";
    public const string StatusDirectory = "var/lib/dpkg/status.d";

    public static IReadOnlyList<InstalledPackage> Parse(ReadOnlySpan<byte> content, string database)
    {
        var packages = new List<InstalledPackage>();
        foreach (Dictionary<string, string> stanza in Stanzas(Encoding.UTF8.GetString(content)))
        {
            if (!stanza.TryGetValue("Package", out string? name) || !stanza.TryGetValue("Version", out string? version)) { continue; }
            if (stanza.TryGetValue("Status", out string? status) && !status.EndsWith(" installed", StringComparison.Ordinal)) { continue; }
            string? source = stanza.GetValueOrDefault("Source");
            if (source is not null)
            {
                // "glibc (2.36-9)": the source's name, with its version when that differs from the binary's.
                int paren = source.IndexOf(" (", StringComparison.Ordinal);
                if (paren > 0) { source = source[..paren]; }
            }
            packages.Add(new InstalledPackage("deb", name, version, database)
            {
                Architecture = stanza.GetValueOrDefault("Architecture"),
                Source = source == name ? null : source,
                Maintainer = stanza.GetValueOrDefault("Maintainer"),
            });
        }
        return packages;
    }

    /// <summary>The stanzas of a control file; field names as written, values with continuation lines joined by newlines.</summary>
    internal static IEnumerable<Dictionary<string, string>> Stanzas(string text)
    {
        var stanza = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? last = null;
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0)
            {
                if (stanza.Count > 0) { yield return stanza; }
                stanza = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                last = null;
                continue;
            }
            if (line[0] is ' ' or '\t')
            {
                if (last is not null) { stanza[last] += "\n" + line.Trim(); }
                continue;
            }
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0) { continue; }
            last = line[..colon].Trim();
            stanza[last] = line[(colon + 1)..].Trim();
        }
        if (stanza.Count > 0) { yield return stanza; }
    }
}
