namespace Dbuild.Runtime;

/// <summary>A <c>RUN --mount</c>. <see cref="Target"/> is an absolute path inside the container.</summary>
public abstract record StepMount
{
    private protected StepMount() { }

    /// <summary>Where the mount appears in the container (absolute).</summary>
    public required string Target { get; init; }
}
