using System.Text;

namespace Dbuild.Solver.Attestations;

/// <summary>
/// Reads apk's installed database (<c>/lib/apk/db/installed</c>, Alpine and Wolfi): one block per package, blocks
/// separated by blank lines, lines <c>K:value</c> with single-letter keys: P name, V version, A architecture,
/// o origin (source package), m maintainer, L licence.
/// </summary>
/// <remarks>https://wiki.alpinelinux.org/wiki/Apk_spec#Database</remarks>
internal static class ApkDatabaseReader
{
    public const string InstalledPath = "lib/apk/db/installed";

    public static IReadOnlyList<InstalledPackage> Parse(ReadOnlySpan<byte> content, string database)
    {
        var packages = new List<InstalledPackage>();
        var fields = new Dictionary<char, string>();
        foreach (string raw in (Encoding.UTF8.GetString(content) + "\n\n").Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.Length == 0)
            {
                if (fields.TryGetValue('P', out string? name) && fields.TryGetValue('V', out string? version))
                {
                    string? origin = fields.GetValueOrDefault('o');
                    packages.Add(new InstalledPackage("apk", name, version, database)
                    {
                        Architecture = fields.GetValueOrDefault('A'),
                        Source = origin == name ? null : origin,
                        Maintainer = fields.GetValueOrDefault('m'),
                        License = fields.GetValueOrDefault('L'),
                    });
                }
                fields.Clear();
                continue;
            }
            // Only a package's own fields: file lines (F:, R:, Z:…) repeat and do not matter here; the first wins.
            if (line.Length >= 2 && line[1] == ':') { fields.TryAdd(line[0], line[2..]); }
        }
        return packages;
    }
}
