namespace Dbuild.Dockerfile;

/// <summary><c>CMD</c>.</summary>
public sealed record CmdInstruction : Instruction
{
    /// <summary>The command (exec form may be empty: <c>CMD []</c>).</summary>
    public required CommandLine Command { get; init; }
}
