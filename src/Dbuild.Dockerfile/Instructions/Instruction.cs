namespace Dbuild.Dockerfile;

/// <summary>A typed Dockerfile instruction (BuildKit's instructions package). Values are as written, not expanded.</summary>
public abstract record Instruction
{
    /// <summary>The keyword in upper case (RUN, COPY, …).</summary>
    public required string Keyword { get; init; }

    /// <summary>Source position.</summary>
    public required SourceRange Location { get; init; }

    /// <summary>The joined logical line as written.</summary>
    public required string Original { get; init; }

    /// <summary>Comment lines directly above.</summary>
    public IReadOnlyList<string> Comments { get; init; } = [];
}
