namespace Dbuild.Dockerfile;

/// <summary>
/// .dockerignore matching with BuildKit's semantics (moby/patternmatcher): Go <c>filepath.Match</c> patterns plus
/// <c>**</c>, <c>!</c> re-includes, last match wins, a pattern matching a parent directory excludes what is under it,
/// patterns cleaned and made relative. <see cref="Walk"/> lists a context without descending into excluded
/// directories that no later <c>!</c> pattern can reach into.
/// </summary>
public sealed class DockerIgnore
{
    private readonly List<IgnorePattern> _patterns;
    private readonly bool _hasExclusions;

    private DockerIgnore(List<IgnorePattern> patterns)
    {
        _patterns = patterns;
        _hasExclusions = patterns.Any(p => p.Exclusion);
    }

    /// <summary>No patterns: everything is included.</summary>
    public static DockerIgnore Empty { get; } = new([]);

    /// <summary>True when there are no patterns: nothing in the context is excluded.</summary>
    public bool IsEmpty => _patterns.Count == 0;

    /// <summary>The cleaned patterns, with their <c>!</c>.</summary>
    public IReadOnlyList<string> Patterns => [.. _patterns.Select(p => p.Exclusion ? "!" + p.Cleaned : p.Cleaned)];

    /// <summary>Reads .dockerignore text: <c>#</c> comment lines, blank lines skipped, each pattern trimmed and cleaned.</summary>
    /// <exception cref="FormatException">A pattern is malformed (<c>!</c> alone, an unclosed <c>[</c>).</exception>
    public static DockerIgnore Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > 0 && text[0] == '\uFEFF') { text = text[1..]; }
        var lines = new List<string>();
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.Length > 0 && line[0] == '#') { continue; }
            line = line.Trim();
            if (line.Length == 0) { continue; }
            bool invert = line[0] == '!';
            if (invert) { line = line[1..].Trim(); }
            if (line.Length > 0)
            {
                line = GoPath.Clean(line);
                if (line.Length > 1 && line[0] == '/') { line = line[1..]; }
            }
            lines.Add(invert ? "!" + line : line);
        }
        return FromPatterns(lines);
    }

    /// <summary>Compiles patterns as given (each may start with <c>!</c>).</summary>
    /// <exception cref="FormatException">A pattern is malformed.</exception>
    public static DockerIgnore FromPatterns(IEnumerable<string> patterns)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        var list = new List<IgnorePattern>();
        foreach (string raw in patterns)
        {
            string p = raw.Trim();
            if (p.Length == 0) { continue; }
            bool exclusion = p[0] == '!';
            if (exclusion)
            {
                if (p.Length == 1) { throw new FormatException("illegal exclusion pattern: \"!\""); }
                p = p[1..];
            }
            p = GoPath.Clean(p);
            list.Add(new IgnorePattern(p, exclusion));
        }
        return new DockerIgnore(list);
    }

    /// <summary>
    /// Loads the ignore file for a build: <c>&lt;Dockerfile name&gt;.dockerignore</c> beside the Dockerfile wins over
    /// <c>.dockerignore</c> at the context root. Returns <see cref="Empty"/> when neither exists.
    /// </summary>
    public static DockerIgnore Load(string contextDirectory, string? dockerfilePath = null)
    {
        ArgumentNullException.ThrowIfNull(contextDirectory);
        if (dockerfilePath is not null)
        {
            string full = Path.IsPathRooted(dockerfilePath) ? dockerfilePath : Path.Combine(contextDirectory, dockerfilePath);
            string specific = full + ".dockerignore";
            if (File.Exists(specific)) { return Parse(File.ReadAllText(specific)); }
        }
        string general = Path.Combine(contextDirectory, ".dockerignore");
        return File.Exists(general) ? Parse(File.ReadAllText(general)) : Empty;
    }

    /// <summary>True when the context path (or a parent directory of it) is excluded; last matching pattern wins.</summary>
    public bool IsExcluded(string relativePath)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        if (_patterns.Count == 0) { return false; }
        string path = Normalize(relativePath);
        return Matches(path);
    }

    private static string Normalize(string relativePath)
    {
        string path = GoPath.Clean(relativePath);
        while (path.StartsWith('/')) { path = path[1..]; }
        return path.Length == 0 ? "." : path;
    }

    private bool Matches(string path)
    {
        bool matched = false;
        int lastSlash = path.LastIndexOf('/');
        string? parent = lastSlash < 0 ? null : path[..lastSlash];
        foreach (IgnorePattern pattern in _patterns)
        {
            if (pattern.Exclusion != matched) { continue; }
            bool match = pattern.Match(path);
            if (!match && parent is not null)
            {
                int idx = -1;
                while (true)
                {
                    idx = parent.IndexOf('/', idx + 1);
                    string prefix = idx < 0 ? parent : parent[..idx];
                    if (pattern.Match(prefix)) { match = true; break; }
                    if (idx < 0) { break; }
                }
            }
            if (match) { matched = !pattern.Exclusion; }
        }
        return matched;
    }

    /// <summary>
    /// True when an excluded directory can be skipped whole: no <c>!</c> pattern after the last one excluding it can
    /// match anything inside it.
    /// </summary>
    public bool CanSkipDirectory(string relativeDirectory)
    {
        ArgumentNullException.ThrowIfNull(relativeDirectory);
        if (!_hasExclusions) { return true; }
        string dir = Normalize(relativeDirectory);
        // Only a '!' pattern after the last pattern that excludes the directory can re-include something in it.
        int start = 0;
        for (int i = _patterns.Count - 1; i >= 0; i--)
        {
            if (!_patterns[i].Exclusion && MatchesSelfOrParent(_patterns[i], dir))
            {
                start = i + 1;
                break;
            }
        }
        for (int i = start; i < _patterns.Count; i++)
        {
            IgnorePattern pattern = _patterns[i];
            if (!pattern.Exclusion) { continue; }
            string literal = pattern.LiteralPrefix;
            // A wildcard in the first component (e.g. "!**/keep", "!*.go") can reach anywhere.
            if (literal.Length == 0) { return false; }
            if (literal == dir || literal.StartsWith(dir + "/", StringComparison.Ordinal) || dir.StartsWith(literal + "/", StringComparison.Ordinal))
            {
                return false;
            }
        }
        return true;
    }

    private static bool MatchesSelfOrParent(IgnorePattern pattern, string path)
    {
        if (pattern.Match(path)) { return true; }
        for (int idx = path.IndexOf('/', StringComparison.Ordinal); idx >= 0; idx = path.IndexOf('/', idx + 1))
        {
            if (pattern.Match(path[..idx])) { return true; }
        }
        return false;
    }

    /// <summary>
    /// Lists the included entries of a context directory in ordinal order, directories before their contents. A
    /// directory that is itself excluded is still listed when something inside it is re-included.
    /// </summary>
    public IEnumerable<ContextEntry> Walk(string contextDirectory)
    {
        ArgumentNullException.ThrowIfNull(contextDirectory);
        var pending = new List<ContextEntry>();
        return WalkDirectory(new DirectoryInfo(contextDirectory), "", pending);
    }

    private IEnumerable<ContextEntry> WalkDirectory(DirectoryInfo directory, string relative, List<ContextEntry> pending)
    {
        FileSystemInfo[] entries = directory.GetFileSystemInfos();
        Array.Sort(entries, (a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (FileSystemInfo entry in entries)
        {
            string path = relative.Length == 0 ? entry.Name : relative + "/" + entry.Name;
            bool isDirectory = entry is DirectoryInfo && !entry.Attributes.HasFlag(FileAttributes.ReparsePoint);
            bool excluded = _patterns.Count > 0 && Matches(path);
            if (!isDirectory)
            {
                if (excluded) { continue; }
                foreach (ContextEntry parent in pending) { yield return parent; }
                pending.Clear();
                yield return new ContextEntry(path, entry.FullName, false);
                continue;
            }
            if (excluded && CanSkipDirectory(path)) { continue; }
            var self = new ContextEntry(path, entry.FullName, true);
            if (excluded)
            {
                pending.Add(self);
            }
            else
            {
                foreach (ContextEntry parent in pending) { yield return parent; }
                pending.Clear();
                yield return self;
            }
            int depth = pending.Count;
            foreach (ContextEntry child in WalkDirectory((DirectoryInfo)entry, path, pending)) { yield return child; }
            if (pending.Count > 0 && pending.Count >= depth && excluded) { pending.RemoveAt(pending.Count - 1); }
        }
    }
}
