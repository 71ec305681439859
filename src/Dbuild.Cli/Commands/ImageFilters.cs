using Dbuild.Oci;

namespace Dbuild.Cli.Commands;

/// <summary>
/// <c>--filter</c> of <c>dbuild images</c>, as dockerd 20.10 applies it to its image list: <c>dangling</c>,
/// <c>label</c>, <c>before</c>, <c>since</c> and <c>reference</c>, with its error messages.
/// </summary>
internal sealed class ImageFilters
{
    private static readonly string[] Accepted = ["dangling", "label", "before", "since", "reference"];
    private readonly Dictionary<string, SortedSet<string>> _fields = new(StringComparer.Ordinal);

    /// <summary>Parses <c>name=value</c> values; an unknown name or a bad value is a <see cref="FormatException"/> (exit 2).</summary>
    public static ImageFilters Parse(IEnumerable<string> values, string? repositoryArgument)
    {
        var filters = new ImageFilters();
        foreach (string value in values)
        {
            int equals = value.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0) { throw new FormatException($"invalid argument \"{value}\" for \"-f, --filter\" flag: bad format of filter (expected name=value)"); }
            filters.Add(value[..equals].Trim().ToLowerInvariant(), value[(equals + 1)..].Trim());
        }
        if (repositoryArgument is { Length: > 0 }) { filters.Add("reference", repositoryArgument); }
        foreach (string name in filters._fields.Keys)
        {
            if (!Accepted.Contains(name)) { throw new FormatException($"Invalid filter '{name}'"); }
        }
        if (filters._fields.TryGetValue("dangling", out SortedSet<string>? dangling) && !dangling.Contains("true") && !dangling.Contains("false"))
        {
            throw new FormatException($"Invalid filter 'dangling=[{string.Join(" ", dangling)}]'");
        }
        if (filters._fields.TryGetValue("reference", out SortedSet<string>? patterns) && !patterns.All(GoPathMatch.IsValid))
        {
            throw new FormatException("syntax error in pattern");
        }
        return filters;
    }

    private void Add(string name, string value)
    {
        if (!_fields.TryGetValue(name, out SortedSet<string>? set)) { _fields[name] = set = new SortedSet<string>(StringComparer.Ordinal); }
        set.Add(value);
    }

    /// <summary>
    /// The images that pass, each keeping only the tags and digests a <c>reference</c> filter matched. An image no name
    /// matched is left out; a <c>before</c> or <c>since</c> image that is not there is an error.
    /// </summary>
    public IReadOnlyList<ImageSummary> Apply(IReadOnlyList<ImageSummary> all)
    {
        DateTimeOffset? before = Anchor(all, "before");
        DateTimeOffset? since = Anchor(all, "since");
        bool danglingOnly = _fields.TryGetValue("dangling", out SortedSet<string>? dangling) && dangling.Contains("true");
        var result = new List<ImageSummary>();
        foreach (ImageSummary image in all)
        {
            DateTimeOffset created = image.Created ?? DateTimeOffset.UnixEpoch;
            if (before is { } b && created >= b) { continue; }
            if (since is { } s && created <= s) { continue; }
            if (_fields.TryGetValue("label", out SortedSet<string>? labels) && !MatchLabels(labels, image.Labels)) { continue; }
            ImageSummary kept = image with { RepoTags = [.. image.RepoTags.Where(Matches)], RepoDigests = [.. image.RepoDigests.Where(Matches)] };
            if (kept.Dangling)
            {
                if (dangling is not null && !danglingOnly) { continue; }
                if (_fields.ContainsKey("reference")) { continue; }
            }
            else if (danglingOnly && kept.RepoTags.Count > 0) { continue; }
            result.Add(kept);
        }
        return result;
    }

    private DateTimeOffset? Anchor(IReadOnlyList<ImageSummary> all, string name)
    {
        if (!_fields.TryGetValue(name, out SortedSet<string>? values)) { return null; }
        DateTimeOffset? anchor = null;
        foreach (string value in values)
        {
            ImageSummary found = Find(all, value) ?? throw new ImageNotFoundException(
                $"No such image: {(Reference.TryParse(value, out Reference? r, out _) ? r.FamiliarName : value)}");
            anchor = found.Created ?? DateTimeOffset.UnixEpoch;
        }
        return anchor;
    }

    /// <summary>An image by name (normalised as docker does) or by a prefix of its ID.</summary>
    internal static ImageSummary? Find(IReadOnlyList<ImageSummary> all, string nameOrId)
    {
        if (Reference.TryParse(nameOrId, out Reference? reference, out _))
        {
            string full = reference.ToString();
            if (all.FirstOrDefault(i => i.RepoTags.Any(t => t.ToString() == full) || i.RepoDigests.Any(d => d.ToString() == full)) is { } byName) { return byName; }
        }
        string hex = nameOrId.StartsWith("sha256:", StringComparison.Ordinal) ? nameOrId[7..] : nameOrId;
        if (hex.Length == 0 || !hex.All(char.IsAsciiHexDigitLower)) { return null; }
        var byId = all.Where(i => i.Id.Encoded.StartsWith(hex, StringComparison.Ordinal)).ToList();
        return byId.Count == 1 ? byId[0] : null;
    }

    private static bool MatchLabels(SortedSet<string> filters, IReadOnlyDictionary<string, string> labels)
    {
        if (labels.Count == 0) { return false; }
        foreach (string filter in filters)
        {
            string[] kv = filter.Split('=', 2);
            if (!labels.TryGetValue(kv[0], out string? value)) { return false; }
            if (kv.Length == 2 && kv[1] != value) { return false; }
        }
        return true;
    }

    /// <summary>distribution's <c>FamiliarMatch</c>: the pattern against the familiar string, then the familiar name.</summary>
    private bool Matches(Reference reference)
    {
        if (!_fields.TryGetValue("reference", out SortedSet<string>? patterns)) { return true; }
        return patterns.Any(p => GoPathMatch.IsMatch(p, reference.FamiliarName) || GoPathMatch.IsMatch(p, reference.FamiliarRepository));
    }
}

/// <summary>An image a command names is not in the local store (exit 1).</summary>
internal sealed class ImageNotFoundException(string message) : Exception(message);
