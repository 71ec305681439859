namespace Dbuild.Dockerfile;

/// <summary><c>ARG name[=default] …</c>.</summary>
public sealed record ArgInstruction : Instruction
{
    /// <summary>The declared names with their raw defaults.</summary>
    public required IReadOnlyList<ArgDefinition> Args { get; init; }
}
