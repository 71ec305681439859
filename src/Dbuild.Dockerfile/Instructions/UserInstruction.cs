namespace Dbuild.Dockerfile;

/// <summary><c>USER user[:group]</c>.</summary>
public sealed record UserInstruction : Instruction
{
    /// <summary>The user.</summary>
    public required string User { get; init; }
}
