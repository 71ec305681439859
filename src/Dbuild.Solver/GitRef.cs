using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Dbuild.Solver;

/// <summary>
/// A git source of <c>ADD</c>, read as BuildKit's dfgitutil.ParseGitRef does: <c>git://</c>, <c>ssh://</c>,
/// <c>user@host:path</c>, or an <c>http(s)://</c> URL whose path ends in <c>.git</c>; <c>#ref:subdir</c> (or
/// <c>##ref=…,subdir=…</c>) and the query keys ref, tag, branch, subdir, commit/checksum, keep-git-dir, submodules.
/// </summary>
internal sealed partial record GitRef(string Remote, string Ref, string SubDir, bool? KeepGitDir, string? Checksum, bool? Submodules)
{
    /// <summary>The source as written in the Dockerfile, with any password replaced, for messages.</summary>
    public string Original { get; init; } = Remote;

    /// <summary>What the URL is for, the first word of every message: <c>ADD</c>, or <c>git context</c> for a build context.</summary>
    public string Use { get; init; } = "ADD";

    /// <summary>A URL with its password (if any) replaced by <c>xxxxx</c>, as BuildKit's urlutil.RedactCredentials.</summary>
    public static string Redact(string url)
    {
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0) { return url; }
        int at = url.IndexOf('@', scheme + 3);
        int slash = url.IndexOf('/', scheme + 3);
        if (at < 0 || (slash >= 0 && slash < at)) { return url; }
        int colon = url.IndexOf(':', scheme + 3);
        return colon < 0 || colon > at ? url : url[..(colon + 1)] + "xxxxx" + url[at..];
    }

    [GeneratedRegex(@"^[A-Za-z0-9_.+-]+@[A-Za-z0-9.-]+:.+$", RegexOptions.CultureInvariant)]
    private static partial Regex ScpStyle();

    [GeneratedRegex(@"^[a-zA-Z0-9]+://", RegexOptions.CultureInvariant)]
    private static partial Regex Scheme();

    /// <summary>True when <paramref name="source"/> is a git URL; a malformed fragment or query throws <see cref="BuildException"/>.</summary>
    /// <param name="source">The URL as written.</param>
    /// <param name="gitRef">The parsed reference.</param>
    /// <param name="use">What the URL is for, first in messages (<see cref="Use"/>).</param>
    public static bool TryParse(string source, [NotNullWhen(true)] out GitRef? gitRef, string use = "ADD")
    {
        gitRef = null;
        string scheme = Scheme().Match(source) is { Success: true } m ? m.Value[..^3].ToLowerInvariant() : "";
        if (scheme.Length == 0 && !ScpStyle().IsMatch(source)) { return false; }
        if (scheme.Length > 0 && scheme is not ("git" or "ssh" or "http" or "https")) { return false; }
        string rest = source;
        string fragment = "";
        int hash = rest.IndexOf('#', StringComparison.Ordinal);
        if (hash >= 0) { (rest, fragment) = (rest[..hash], rest[(hash + 1)..]); }
        string query = "";
        int question = scheme.Length > 0 ? rest.IndexOf('?', StringComparison.Ordinal) : -1;
        if (question >= 0) { (rest, query) = (rest[..question], rest[(question + 1)..]); }
        if (scheme is "http" or "https" && !(Uri.TryCreate(rest, UriKind.Absolute, out Uri? uri) && uri.AbsolutePath.EndsWith(".git", StringComparison.Ordinal))) { return false; }

        string reference = "", subdir = "";
        string? checksum = null;
        bool? keep = null, submodules = null;
        if (fragment.StartsWith('#'))
        {
            foreach (string field in fragment[1..].Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = field.IndexOf('=', StringComparison.Ordinal);
                if (eq < 0) { throw new BuildException($"{use} {Redact(source)}: invalid field '{field}' in the URL fragment, it must be a key=value pair."); }
                string value = field[(eq + 1)..];
                switch (field[..eq].ToLowerInvariant())
                {
                    case "ref": reference = value; break;
                    case "commit": checksum = value; break;
                    case "subdir": subdir = value; break;
                    default: throw new BuildException($"{use} {Redact(source)}: unexpected key '{field[..eq]}' in the URL fragment (supported keys: ref, commit, subdir).");
                }
            }
        }
        else if (fragment.Length > 0)
        {
            int colon = fragment.IndexOf(':', StringComparison.Ordinal);
            (reference, subdir) = colon < 0 ? (fragment, "") : (fragment[..colon], fragment[(colon + 1)..]);
        }
        string? tag = null, branch = null;
        foreach (string pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            string key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            string value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
            switch (key)
            {
                case "ref": reference = Agree(reference, value, "ref"); break;
                case "tag": tag = value; break;
                case "branch": branch = value; break;
                case "subdir": subdir = Agree(subdir, value, "subdir"); break;
                case "checksum" or "commit": checksum = value; break;
                case "keep-git-dir": keep = Bool(value, key); break;
                case "submodules": submodules = Bool(value, key); break;
                default: throw new BuildException($"{use} {Redact(source)}: unexpected query \"{key}\" in the git URL.");
            }
        }
        if (tag is not null) { reference = Agree(reference, tag.StartsWith("refs/tags/", StringComparison.Ordinal) ? tag : "refs/tags/" + tag, "ref"); }
        if (branch is not null)
        {
            if (tag is not null) { throw new BuildException($"{use} {Redact(source)}: branch conflicts with tag."); }
            reference = Agree(reference, branch.StartsWith("refs/heads/", StringComparison.Ordinal) ? branch : "refs/heads/" + branch, "ref");
        }
        if (checksum is not null && reference.Length == 0) { reference = checksum; }
        gitRef = new GitRef(rest, reference, subdir, keep, checksum, submodules) { Original = Redact(source), Use = use };
        return true;

        string Agree(string current, string value, string what) => current.Length > 0 && current != value
            ? throw new BuildException($"{use} {Redact(source)}: {what} conflicts: \"{current}\" vs \"{value}\".")
            : value;

        bool Bool(string value, string key) => value switch
        {
            "" or "1" or "t" or "T" => true,
            "0" or "f" or "F" => false,
            _ => bool.TryParse(value, out bool b) ? b : throw new BuildException($"{use} {Redact(source)}: invalid {key} value: \"{value}\"."),
        };
    }
}
