namespace Dbuild.Dockerfile;

/// <summary><c>WORKDIR path</c>.</summary>
public sealed record WorkdirInstruction : Instruction
{
    /// <summary>The path.</summary>
    public required string Path { get; init; }
}
