namespace Dbuild.Dockerfile;

/// <summary><c>ENTRYPOINT</c>.</summary>
public sealed record EntrypointInstruction : Instruction
{
    /// <summary>The command.</summary>
    public required CommandLine Command { get; init; }
}
