using System.Globalization;
using Dbuild.Oci;
using Dbuild.Solver.Cache;

namespace Dbuild.Solver.Store;

/// <summary>
/// <c>dbuild image prune --filter</c>, docker's keys: <c>until=</c> (a Go duration before now, an RFC 3339 time or a Unix
/// timestamp; images created before it), <c>label=KEY</c>, <c>label=KEY=VALUE</c>, <c>label!=KEY[=VALUE]</c>, and
/// <c>dangling=false</c> (or <c>0</c>), which docker's daemon reads as <c>-a</c> (any other value leaves the choice to <c>-a</c>).
/// </summary>
public sealed record ImagePruneFilter
{
    /// <summary>Only images created before this.</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>Set by <c>dangling=false</c>: every image, as with <c>-a</c>.</summary>
    public bool AllImages { get; init; }

    /// <summary>Labels an image must have (<c>KEY</c> or <c>KEY=VALUE</c>).</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];

    /// <summary>Labels an image must not have.</summary>
    public IReadOnlyList<string> NotLabels { get; init; } = [];

    /// <summary>Applies one <c>--filter key=value</c>.</summary>
    /// <exception cref="FormatException">An unknown key or a bad value, with docker's words.</exception>
    public ImagePruneFilter With(string filter, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(filter);
        int equals = filter.IndexOf('=', StringComparison.Ordinal);
        if (equals < 0) { throw new FormatException($"bad format of filter (expected name=value)"); }
        string key = filter[..equals];
        string value = filter[(equals + 1)..];
        return key switch
        {
            "until" => this with { Until = ParseTime(value, now) },
            "label" => this with { Labels = [.. Labels, value] },
            "label!" => this with { NotLabels = [.. NotLabels, value] },
            "dangling" => this with { AllImages = AllImages || value is "false" or "0" },
            _ => throw new FormatException($"Invalid filter '{key}'"),
        };
    }

    /// <summary>True when the image passes every filter.</summary>
    public bool Matches(ImageConfig config, DateTimeOffset? created)
    {
        ArgumentNullException.ThrowIfNull(config);
        IReadOnlyDictionary<string, string> labels = config.Config?.Labels ?? new Dictionary<string, string>();
        if (Until is { } until && (created is not { } c || c >= until)) { return false; }
        return Labels.All(l => HasLabel(labels, l)) && !NotLabels.Any(l => HasLabel(labels, l));
    }

    private static bool HasLabel(IReadOnlyDictionary<string, string> labels, string filter)
    {
        int equals = filter.IndexOf('=', StringComparison.Ordinal);
        return equals < 0 ? labels.ContainsKey(filter) : labels.TryGetValue(filter[..equals], out string? v) && v == filter[(equals + 1)..];
    }

    private static DateTimeOffset ParseTime(string value, DateTimeOffset now)
    {
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset time)) { return time; }
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds))
        {
            return DateTimeOffset.UnixEpoch.AddSeconds(seconds);
        }
        return now - CachePruneOptions.ParseDuration(value, $"failed to parse value as time or duration: \"{value}\"");
    }
}
