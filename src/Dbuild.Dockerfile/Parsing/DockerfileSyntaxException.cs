namespace Dbuild.Dockerfile;

/// <summary>
/// A Dockerfile that cannot be read. <see cref="Exception.Message"/> reads
/// <c>Dockerfile:12:5: unknown instruction: RUNN (did you mean RUN?)</c> followed by the offending line.
/// </summary>
public sealed class DockerfileSyntaxException : FormatException
{
    /// <summary>Creates the exception; <paramref name="line"/> and <paramref name="column"/> are 1-based (0 when unknown).</summary>
    public DockerfileSyntaxException(string file, int line, int column, string reason, string? sourceLine = null)
        : base(Format(file, line, column, reason, sourceLine))
    {
        File = file;
        Line = line;
        Column = column;
        Reason = reason;
        SourceLine = sourceLine;
    }

    /// <summary>The Dockerfile's name as given to the parser.</summary>
    public string File { get; }

    /// <summary>1-based line, 0 when the error has no line.</summary>
    public int Line { get; }

    /// <summary>1-based column, 0 when unknown.</summary>
    public int Column { get; }

    /// <summary>The message without the location prefix.</summary>
    public string Reason { get; }

    /// <summary>The source line the error is on, if any.</summary>
    public string? SourceLine { get; }

    private static string Format(string file, int line, int column, string reason, string? sourceLine)
    {
        string location = line <= 0 ? file : column <= 0 ? $"{file}:{line}" : $"{file}:{line}:{column}";
        string text = $"{location}: {reason}";
        return sourceLine is null ? text : $"{text}\n{line,5} | {sourceLine}";
    }
}
