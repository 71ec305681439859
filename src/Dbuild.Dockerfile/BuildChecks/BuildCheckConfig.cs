namespace Dbuild.Dockerfile;

/// <summary>The <c># check=skip=…;error=true;experimental=…</c> directive (or the BUILDKIT_DOCKERFILE_CHECK build arg).</summary>
public sealed record BuildCheckConfig
{
    /// <summary>Rules to skip.</summary>
    public IReadOnlySet<string> Skip { get; init; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    /// <summary><c>skip=all</c>.</summary>
    public bool SkipAll { get; init; }

    /// <summary><c>error=true</c>: a fired check fails the build.</summary>
    public bool Error { get; init; }

    /// <summary>Experimental rules to enable.</summary>
    public IReadOnlySet<string> Experimental { get; init; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    /// <summary><c>experimental=all</c>.</summary>
    public bool ExperimentalAll { get; init; }

    /// <summary>True when <paramref name="rule"/> should run.</summary>
    public bool IsEnabled(BuildCheckRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (SkipAll || Skip.Contains(rule.Name)) { return false; }
        return !rule.Experimental || ExperimentalAll || Experimental.Contains(rule.Name);
    }

    /// <summary>Parses a directive value such as <c>skip=JSONArgsRecommended,StageNameCasing;error=true</c>.</summary>
    /// <exception cref="FormatException">An unknown key or a bad boolean.</exception>
    public static BuildCheckConfig Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) { return new BuildCheckConfig(); }
        var skip = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var experimental = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        bool skipAll = false, error = false, experimentalAll = false;
        foreach (string part in value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0) { throw new FormatException($"invalid check directive part {GoText.Quote(part)}: expected key=value"); }
            string key = part[..eq].Trim().ToLowerInvariant();
            string v = part[(eq + 1)..].Trim();
            switch (key)
            {
                case "skip":
                    foreach (string name in v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        if (name.Equals("all", StringComparison.OrdinalIgnoreCase)) { skipAll = true; } else { skip.Add(name); }
                    }
                    break;
                case "error":
                    error = v.ToLowerInvariant() switch
                    {
                        "true" or "1" => true,
                        "false" or "0" => false,
                        _ => throw new FormatException($"invalid check directive: error={v} is not a boolean"),
                    };
                    break;
                case "experimental":
                    foreach (string name in v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        if (name.Equals("all", StringComparison.OrdinalIgnoreCase)) { experimentalAll = true; } else { experimental.Add(name); }
                    }
                    break;
                default:
                    throw new FormatException($"invalid check directive key {GoText.Quote(key)}: expected skip, error or experimental");
            }
        }
        return new BuildCheckConfig { Skip = skip, SkipAll = skipAll, Error = error, Experimental = experimental, ExperimentalAll = experimentalAll };
    }
}
