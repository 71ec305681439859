namespace Dbuild.Dockerfile;

/// <summary><c>MAINTAINER name</c> (deprecated).</summary>
public sealed record MaintainerInstruction : Instruction
{
    /// <summary>The maintainer.</summary>
    public required string Maintainer { get; init; }
}
