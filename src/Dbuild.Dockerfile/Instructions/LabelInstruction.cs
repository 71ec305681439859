namespace Dbuild.Dockerfile;

/// <summary><c>LABEL k=v …</c>.</summary>
public sealed record LabelInstruction : Instruction
{
    /// <summary>The pairs, unexpanded (quotes kept).</summary>
    public required IReadOnlyList<KeyValue> Pairs { get; init; }
}
