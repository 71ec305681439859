namespace Dbuild.Dockerfile;

/// <summary><c>SHELL ["exe", "arg"]</c> (JSON only).</summary>
public sealed record ShellInstruction : Instruction
{
    /// <summary>The shell and its arguments.</summary>
    public required IReadOnlyList<string> Shell { get; init; }
}
