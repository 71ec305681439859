namespace Dbuild.Dockerfile;

/// <summary><c>COPY</c> and <c>ADD</c>: sources, destination and the file flags both share.</summary>
public abstract record FileInstruction : Instruction
{
    /// <summary>Sources (paths, URLs, heredoc names), unexpanded.</summary>
    public required IReadOnlyList<string> Sources { get; init; }

    /// <summary>The destination, unexpanded.</summary>
    public required string Destination { get; init; }

    /// <summary><c>--chown=user[:group]</c>, or null.</summary>
    public string? Chown { get; init; }

    /// <summary><c>--chmod</c> (octal or symbolic, see <see cref="FileMode"/>), or null.</summary>
    public string? Chmod { get; init; }

    /// <summary><c>--link</c>.</summary>
    public bool Link { get; init; }

    /// <summary><c>--parents</c>.</summary>
    public bool Parents { get; init; }

    /// <summary><c>--exclude</c> patterns.</summary>
    public IReadOnlyList<string> Excludes { get; init; } = [];

    /// <summary>Here-documents used as sources.</summary>
    public IReadOnlyList<Heredoc> Heredocs { get; init; } = [];

    /// <summary>True when the sources came from a JSON array.</summary>
    public bool IsJson { get; init; }

    /// <summary>The here-document a source word stands for (<c>&lt;&lt;EOF</c>, <c>&lt;&lt;-"EOF"</c>), or null for a path or URL.</summary>
    public Heredoc? HeredocFor(string source) => Dbuild.Dockerfile.Heredocs.Find(Heredocs, source);
}
