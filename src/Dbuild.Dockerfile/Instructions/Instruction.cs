namespace Dbuild.Dockerfile;

/// <summary>Where an instruction stands in its Dockerfile (1-based lines; column of the keyword).</summary>
public readonly record struct SourceRange(int StartLine, int EndLine, int Column);

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

/// <summary>A command in shell form (<see cref="PrependShell"/>, one string) or exec form (JSON array).</summary>
/// <param name="Arguments">The exec arguments, or the single shell string.</param>
/// <param name="PrependShell">True for shell form: run through the stage's SHELL.</param>
public sealed record CommandLine(IReadOnlyList<string> Arguments, bool PrependShell);

/// <summary>A <c>key=value</c> pair of ENV or LABEL; <see cref="NoDelimiter"/> marks the legacy <c>ENV key value</c> form.</summary>
public sealed record KeyValue(string Key, string Value, bool NoDelimiter = false);

/// <summary>One ARG name with its optional default.</summary>
public sealed record ArgDefinition(string Name, string? DefaultValue);
