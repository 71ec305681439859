namespace Dbuild.Dockerfile;

/// <summary><c>HEALTHCHECK [options] CMD …</c> or <c>HEALTHCHECK NONE</c>.</summary>
public sealed record HealthcheckInstruction : Instruction
{
    /// <summary>The test as in the image config: <c>["NONE"]</c>, <c>["CMD", …]</c> or <c>["CMD-SHELL", "…"]</c>.</summary>
    public required IReadOnlyList<string> Test { get; init; }

    /// <summary><c>--interval</c>, zero when not set.</summary>
    public TimeSpan Interval { get; init; }

    /// <summary><c>--timeout</c>, zero when not set.</summary>
    public TimeSpan Timeout { get; init; }

    /// <summary><c>--start-period</c>, zero when not set.</summary>
    public TimeSpan StartPeriod { get; init; }

    /// <summary><c>--start-interval</c>, zero when not set.</summary>
    public TimeSpan StartInterval { get; init; }

    /// <summary><c>--retries</c>, zero when not set.</summary>
    public int Retries { get; init; }
}
