namespace Dbuild.Dockerfile;

/// <summary><c>STOPSIGNAL signal</c>.</summary>
public sealed record StopSignalInstruction : Instruction
{
    /// <summary>The signal.</summary>
    public required string Signal { get; init; }
}
