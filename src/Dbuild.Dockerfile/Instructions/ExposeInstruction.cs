namespace Dbuild.Dockerfile;

/// <summary><c>EXPOSE port[/proto] …</c>.</summary>
public sealed record ExposeInstruction : Instruction
{
    /// <summary>The ports as written.</summary>
    public required IReadOnlyList<string> Ports { get; init; }
}
