namespace Dbuild.Dockerfile;

/// <summary><c>VOLUME path …</c>.</summary>
public sealed record VolumeInstruction : Instruction
{
    /// <summary>The paths.</summary>
    public required IReadOnlyList<string> Volumes { get; init; }
}
