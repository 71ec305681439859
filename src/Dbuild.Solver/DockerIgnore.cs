using System.Text;
using System.Text.RegularExpressions;

namespace Dbuild.Solver;

/// <summary>
/// <c>.dockerignore</c> matching as docker does it: cleaned patterns, <c>*</c> <c>?</c> <c>[…]</c> within a path
/// segment, <c>**</c> across segments, <c>!</c> exceptions where the last matching pattern wins, and a pattern also
/// excludes everything below a directory it matches.
/// </summary>
/// <remarks>Private stand-in until Dbuild.Dockerfile ships its matcher.</remarks>
internal sealed class DockerIgnore
{
    private readonly List<(Regex Pattern, bool Exclusion)> _rules = [];

    public static DockerIgnore Empty { get; } = new([]);

    public DockerIgnore(IEnumerable<string> lines)
    {
        foreach (string raw in lines)
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) { continue; }
            bool exception = line.StartsWith('!');
            if (exception) { line = line[1..].Trim(); }
            line = CleanPattern(line);
            if (line.Length == 0) { continue; }
            _rules.Add((new Regex(ToRegex(line), RegexOptions.CultureInvariant), exception));
        }
    }

    public bool IsEmpty => _rules.Count == 0;

    public static DockerIgnore Load(string contextDirectory)
    {
        string path = Path.Combine(contextDirectory, ".dockerignore");
        return File.Exists(path) ? new DockerIgnore(File.ReadAllLines(path)) : Empty;
    }

    /// <summary>True when <paramref name="relativePath"/> (slash-separated, no leading slash) is excluded from the context.</summary>
    public bool IsExcluded(string relativePath)
    {
        if (_rules.Count == 0) { return false; }
        bool excluded = false;
        foreach ((Regex pattern, bool exception) in _rules)
        {
            if (Matches(pattern, relativePath)) { excluded = !exception; }
        }
        return excluded;
    }

    /// <summary>True when some exception could re-include a path below this excluded directory, so it must still be walked.</summary>
    public bool HasExceptions => _rules.Exists(r => r.Exclusion);

    private static bool Matches(Regex pattern, string path)
    {
        if (pattern.IsMatch(path)) { return true; }
        for (int slash = path.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = path.IndexOf('/', slash + 1))
        {
            if (pattern.IsMatch(path[..slash])) { return true; }
        }
        return false;
    }

    internal static string CleanPattern(string pattern)
    {
        var parts = new List<string>();
        foreach (string part in pattern.Replace('\\', '/').Split('/'))
        {
            if (part.Length == 0 || part == ".") { continue; }
            if (part == "..") { if (parts.Count > 0) { parts.RemoveAt(parts.Count - 1); } continue; }
            parts.Add(part);
        }
        return string.Join('/', parts);
    }

    internal static string ToRegex(string pattern)
    {
        var sb = new StringBuilder("^");
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '*')
            {
                if (i + 1 < pattern.Length && pattern[i + 1] == '*')
                {
                    i++;
                    if (i + 1 < pattern.Length && pattern[i + 1] == '/') { i++; sb.Append("(.*/)?"); }
                    else { sb.Append(".*"); }
                }
                else { sb.Append("[^/]*"); }
            }
            else if (c == '?') { sb.Append("[^/]"); }
            else if (c == '[')
            {
                int end = pattern.IndexOf(']', i + 1);
                if (end < 0) { sb.Append(@"\["); continue; }
                string set = pattern[(i + 1)..end];
                if (set.StartsWith('^') || set.StartsWith('!')) { set = "^" + set[1..]; }
                sb.Append('[').Append(set.Replace(@"\", @"\\", StringComparison.Ordinal)).Append(']');
                i = end;
            }
            else if (c == '\\' && i + 1 < pattern.Length) { sb.Append(Regex.Escape(pattern[++i].ToString())); }
            else { sb.Append(Regex.Escape(c.ToString())); }
        }
        return sb.Append('$').ToString();
    }

    /// <summary>Glob match of one COPY source pattern against a slash path (no <c>**</c> semantics, like filepath.Match).</summary>
    public static bool GlobMatch(string pattern, string path) => Regex.IsMatch(path, ToRegex(pattern), RegexOptions.CultureInvariant);

    public static bool HasWildcard(string path) => path.AsSpan().IndexOfAny("*?[") >= 0;
}
