namespace Dbuild.Dockerfile;

/// <summary><c>ENV k=v …</c>.</summary>
public sealed record EnvInstruction : Instruction
{
    /// <summary>The pairs, unexpanded (quotes kept).</summary>
    public required IReadOnlyList<KeyValue> Pairs { get; init; }
}
