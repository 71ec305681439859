namespace Dbuild.Dockerfile;

/// <summary><c>FROM [--platform=p] image [AS name]</c>.</summary>
public sealed record FromInstruction : Instruction
{
    /// <summary>The image reference or stage name, unexpanded.</summary>
    public required string BaseName { get; init; }

    /// <summary>The stage name after AS, lower case (stage names are case-insensitive), or null.</summary>
    public string? StageName { get; init; }

    /// <summary>The stage name as written (case kept), or null.</summary>
    public string? StageNameAsWritten { get; init; }

    /// <summary>The AS keyword as written (for casing checks), or null.</summary>
    public string? AsKeyword { get; init; }

    /// <summary>The <c>--platform</c> value, unexpanded, or null.</summary>
    public string? Platform { get; init; }
}
