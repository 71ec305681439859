namespace Dbuild.Solver.Cache;

/// <summary>
/// What a prune removes, with buildx's meanings: without <see cref="All"/> only entries no tagged image shares and not
/// internal; <see cref="Until"/> keeps entries used within that duration; <see cref="KeepStorage"/> keeps the most
/// recently used entries up to that many bytes (deleting least recently used first until the cache fits).
/// </summary>
public sealed record CachePruneOptions
{
    /// <summary>Also remove shared and internal entries (<c>--all</c>).</summary>
    public bool All { get; init; }

    /// <summary>Only entries unused for longer than this (<c>--filter until=24h</c>).</summary>
    public TimeSpan? Until { get; init; }

    /// <summary>Keep this many bytes of the most recently used cache (<c>--keep-storage 10GB</c>).</summary>
    public long? KeepStorage { get; init; }

    /// <summary>Only entries of these record types (<c>--filter type=exec.cachemount</c>); empty for any.</summary>
    public IReadOnlyList<string> Types { get; init; } = [];

    /// <summary>Applies one <c>--filter key=value</c> (docker's <c>until</c>, its older name <c>unused-for</c>, and <c>type</c>).</summary>
    /// <exception cref="FormatException">An unknown key or a bad value.</exception>
    public CachePruneOptions WithFilter(string filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        int equals = filter.IndexOf('=', StringComparison.Ordinal);
        string key = equals < 0 ? filter : filter[..equals].TrimEnd('=');
        string value = equals < 0 ? "" : filter[(equals + 1)..].TrimStart('=');
        return key switch
        {
            "until" or "unused-for" when Until is not null => throw new FormatException($"\"{key}\" filter expects only one value"),
            "until" or "unused-for" => this with { Until = ParseDuration(value, $"\"{key}\" filter expects a duration (e.g., '24h')") },
            "type" when value is "regular" or "exec.cachemount" or "internal" => this with { Types = [.. Types, value] },
            "type" => throw new FormatException($"\"type\" filter expects regular, exec.cachemount or internal, not '{value}'"),
            _ => throw new FormatException($"Invalid filter '{key}': dbuild builder prune understands until, unused-for and type."),
        };
    }

    /// <summary>A Go duration (<c>24h</c>, <c>2h30m</c>), as docker's filters and BuildKit's config take it; never negative.</summary>
    /// <exception cref="FormatException">Not a duration, or a negative one; the message starts with <paramref name="what"/>.</exception>
    internal static TimeSpan ParseDuration(string text, string what)
    {
        try
        {
            TimeSpan duration = Dbuild.Dockerfile.GoDuration.Parse(text);
            return duration >= TimeSpan.Zero ? duration : throw new FormatException($"{what}, not a negative one: {text}");
        }
        catch (FormatException ex) when (!ex.Message.StartsWith(what, StringComparison.Ordinal)) { throw new FormatException($"{what}: {ex.Message}", ex); }
    }
}
