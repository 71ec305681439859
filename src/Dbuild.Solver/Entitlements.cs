namespace Dbuild.Solver;

/// <summary>
/// buildx's <c>--allow</c>: privileges a build must be granted before a step may use them. Without
/// <see cref="NetworkHost"/> a <c>RUN --network=host</c> is refused, without <see cref="SecurityInsecure"/> a
/// <c>RUN --security=insecure</c>, both before anything runs, with BuildKit's message (<c>network.host is not allowed</c>).
/// </summary>
public static class Entitlements
{
    /// <summary>RUN steps in the host's network namespace.</summary>
    public const string NetworkHost = "network.host";

    /// <summary>RUN steps with every capability, no seccomp filter and no masked paths.</summary>
    public const string SecurityInsecure = "security.insecure";

    /// <summary>The <c>--allow</c> values, each one entitlement (commas separate several, as buildx reads them).</summary>
    /// <exception cref="FormatException">A value names no entitlement (buildx: <c>invalid entitlement: X</c>).</exception>
    public static IReadOnlySet<string> Parse(IEnumerable<string> values)
    {
        var result = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string value in values.SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            result.Add(value switch
            {
                NetworkHost or SecurityInsecure => value,
                _ => throw new FormatException($"invalid entitlement: {value}"),
            });
        }
        return result;
    }
}
