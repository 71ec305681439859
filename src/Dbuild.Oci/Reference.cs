using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Dbuild.Oci;

/// <summary>
/// An image reference in docker's grammar, normalised the way docker does it:
/// <c>redis</c> is <c>docker.io/library/redis:latest</c>, <c>localhost:5000/a/b@sha256:…</c> keeps its registry.
/// </summary>
/// <remarks>https://github.com/distribution/reference/blob/main/reference.go (grammar) and normalize.go (defaults).</remarks>
public sealed partial record Reference
{
    /// <summary>The registry docker uses when a reference names none.</summary>
    public const string DefaultRegistry = "docker.io";

    /// <summary>The tag used when a reference has neither tag nor digest.</summary>
    public const string DefaultTag = "latest";

    private const int MaxNameLength = 255;

    private Reference(string registry, string repository, string? tag, Digest? digest) =>
        (Registry, Repository, Tag, Digest) = (registry, repository, tag, digest);

    /// <summary>The registry host, with port if any: <c>docker.io</c>, <c>localhost:5000</c>, <c>[::1]:5000</c>.</summary>
    public string Registry { get; }

    /// <summary>The repository path within the registry: <c>library/redis</c>, <c>a/b</c>.</summary>
    public string Repository { get; }

    /// <summary>The tag, or null when the reference pins a digest only.</summary>
    public string? Tag { get; }

    /// <summary>The digest, when the reference pins one.</summary>
    public Digest? Digest { get; }

    /// <summary>Registry plus repository: <c>docker.io/library/redis</c>.</summary>
    public string Name => $"{Registry}/{Repository}";

    /// <summary>The name as docker shows it: <c>redis</c>, <c>user/app</c>, <c>localhost:5000/a</c>; with tag and digest.</summary>
    public string FamiliarName
    {
        get
        {
            string name = FamiliarRepository;
            if (Tag is not null) { name += ":" + Tag; }
            if (Digest is { } d) { name += "@" + d; }
            return name;
        }
    }

    /// <summary>The repository as docker shows it, without tag or digest.</summary>
    public string FamiliarRepository =>
        Registry != DefaultRegistry ? Name :
        Repository.StartsWith("library/", StringComparison.Ordinal) && Repository.IndexOf('/', 8) < 0 ? Repository[8..] : Repository;

    /// <summary>The host to contact: docker.io's API lives at <c>registry-1.docker.io</c>.</summary>
    public string RegistryHost => Registry == DefaultRegistry ? "registry-1.docker.io" : Registry;

    /// <summary>The tag or digest to ask the registry for (the digest wins when both are given).</summary>
    public string ManifestReference => Digest?.ToString() ?? Tag ?? DefaultTag;

    /// <summary>Parses and normalises a reference, adding <c>:latest</c> when it has neither tag nor digest.</summary>
    /// <exception cref="FormatException">The reference is invalid; the message says why.</exception>
    public static Reference Parse(string value) =>
        TryParse(value, out Reference? reference, out string? error) ? reference : throw new FormatException($"Invalid reference '{value}': {error}.");

    /// <summary>Parses and normalises a reference; on failure <paramref name="error"/> says why.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, [NotNullWhen(true)] out Reference? reference, [NotNullWhen(false)] out string? error)
    {
        reference = null;
        if (string.IsNullOrEmpty(value)) { error = "reference is empty"; return false; }
        if (AnchoredIdentifier().IsMatch(value))
        {
            error = "cannot specify a 64-character hexadecimal string as a repository name (it looks like an image ID)";
            return false;
        }
        Match match = ReferenceGrammar().Match(value);
        if (!match.Success)
        {
            error = Explain(value);
            return false;
        }
        string name = match.Groups["name"].Value;
        string? tag = match.Groups["tag"].Success ? match.Groups["tag"].Value : null;
        Digest? digest = null;
        if (match.Groups["digest"].Success)
        {
            if (!Oci.Digest.TryParse(match.Groups["digest"].Value, out Digest d, out string? digestError))
            {
                error = $"invalid digest: {digestError}";
                return false;
            }
            digest = d;
        }

        (string registry, string repository) = SplitDomain(name);
        if (repository.Length + registry.Length + 1 > MaxNameLength)
        {
            error = $"repository name must not be longer than {MaxNameLength} characters";
            return false;
        }
        if (!PathGrammar().IsMatch(repository))
        {
            error = "invalid repository path";
            return false;
        }
        if (tag is null && digest is null) { tag = DefaultTag; }
        reference = new Reference(registry, repository, tag, digest);
        error = null;
        return true;
    }

    /// <summary>The same repository with another tag (and no digest).</summary>
    public Reference WithTag(string tag) =>
        TagGrammar().IsMatch(tag) ? new Reference(Registry, Repository, tag, null) : throw new FormatException($"Invalid tag '{tag}': must match [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}.");

    /// <summary>The same repository pinned to a digest (tag dropped).</summary>
    public Reference WithDigest(Digest digest) => new(Registry, Repository, null, digest);

    /// <summary>True when <paramref name="tag"/> is a valid tag.</summary>
    public static bool IsValidTag(string? tag) => tag is not null && TagGrammar().IsMatch(tag);

    /// <summary>True when <paramref name="repository"/> is a valid repository path (as in <c>/v2/&lt;name&gt;/…</c>).</summary>
    public static bool IsValidRepository(string? repository) => repository is { Length: > 0 and <= MaxNameLength } && PathGrammar().IsMatch(repository);

    /// <summary>The fully qualified form: <c>docker.io/library/redis:latest</c>, <c>host/a@sha256:…</c>.</summary>
    public override string ToString()
    {
        string s = Name;
        if (Tag is not null) { s += ":" + Tag; }
        if (Digest is { } d) { s += "@" + d; }
        return s;
    }

    private static (string Registry, string Repository) SplitDomain(string name)
    {
        int slash = name.IndexOf('/', StringComparison.Ordinal);
        string first = slash < 0 ? "" : name[..slash];
        bool isDomain = slash >= 0 && (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) ||
                                       first == "localhost" || first.StartsWith('[') || first.Any(char.IsUpper));
        string registry = isDomain ? first : DefaultRegistry;
        string repository = isDomain ? name[(slash + 1)..] : name;
        if (registry == "index.docker.io") { registry = DefaultRegistry; }
        if (registry == DefaultRegistry && !repository.Contains('/', StringComparison.Ordinal)) { repository = "library/" + repository; }
        return (registry, repository);
    }

    private static string Explain(string value)
    {
        string name = value;
        int at = name.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0) { name = name[..at]; }
        int lastSlash = name.LastIndexOf('/');
        int colon = name.LastIndexOf(':');
        if (colon > lastSlash) { name = name[..colon]; }
        if (name.Length == 0) { return "repository name is empty"; }
        (string registry, string repository) = SplitDomain(name);
        if (repository.Any(char.IsUpper)) { return "repository name must be lowercase"; }
        if (value.Contains("//", StringComparison.Ordinal) || value.EndsWith('/') || value.StartsWith('/')) { return "repository path has an empty component"; }
        if (repository.Contains("..", StringComparison.Ordinal) || repository.Split('/').Any(c => c is "." or "..")) { return "repository path may not contain '.' or '..' components"; }
        if (at >= 0) { return "invalid digest after '@'"; }
        if (colon > lastSlash && colon >= 0 && !TagGrammar().IsMatch(value[(colon + 1)..])) { return "invalid tag: must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"; }
        return registry.Length > 0 && !repository.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-' or '/')
            ? "repository name may only contain lowercase letters, digits and separators (. _ __ -)"
            : "invalid reference format";
    }

    // domain-component: [a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]; IPv6 in brackets; optional :port.
    // path-component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*; tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; digest: alg:hex(32+).
    [GeneratedRegex(@"^(?<name>(?:(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?/)?[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*)(?::(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$", RegexOptions.CultureInvariant)]
    private static partial Regex ReferenceGrammar();

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$", RegexOptions.CultureInvariant)]
    private static partial Regex PathGrammar();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex TagGrammar();

    [GeneratedRegex(@"^[a-f0-9]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex AnchoredIdentifier();
}
