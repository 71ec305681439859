using System.Text;

namespace Dbuild.Dockerfile;

/// <summary>The result of <see cref="DockerfileParser"/>: the AST root, directives, warnings and escape token.</summary>
public sealed class ParsedDockerfile
{
    internal ParsedDockerfile(string fileName, Node root, IReadOnlyList<ParserDirective> directives, IReadOnlyList<ParseWarning> warnings,
        char escapeToken, string text)
    {
        FileName = fileName;
        Root = root;
        Directives = directives;
        Warnings = warnings;
        EscapeToken = escapeToken;
        _text = text;
    }

    private readonly string _text;
    private string[]? _lines;

    /// <summary>The name used in error messages (usually "Dockerfile").</summary>
    public string FileName { get; }

    /// <summary>The root node; its <see cref="Node.Children"/> are the instructions.</summary>
    public Node Root { get; }

    /// <summary>The instructions in order.</summary>
    public IReadOnlyList<Node> Instructions => Root.Children;

    /// <summary>Parser directives found at the top of the file.</summary>
    public IReadOnlyList<ParserDirective> Directives { get; }

    /// <summary>Parser warnings (empty continuation lines).</summary>
    public IReadOnlyList<ParseWarning> Warnings { get; }

    /// <summary>The escape token in effect (<c>\</c> unless <c># escape=`</c>).</summary>
    public char EscapeToken { get; }

    /// <summary>The physical source lines (newline removed), for error messages.</summary>
    public IReadOnlyList<string> SourceLines => _lines ??= DockerfileParser.SplitSourceLines(_text);

    /// <summary>The value of a directive (<c>syntax</c>, <c>escape</c>, <c>check</c>) or null.</summary>
    public string? GetDirective(string name) =>
        Directives.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase))?.Value;

    /// <summary>BuildKit's dump of the whole AST plus a final newline: the bytes of a parser <c>result</c> file.</summary>
    public string Dump() => Root.Dump() + "\n";

    /// <summary>One line per heredoc: start line, instruction, quoted name, fd, expand, chomp, quoted content.</summary>
    public string DumpHeredocs()
    {
        var sb = new StringBuilder();
        foreach (Node node in Root.Children)
        {
            foreach (Heredoc h in node.Heredocs)
            {
                sb.Append(node.StartLine).Append('\t').Append(node.Value.ToLowerInvariant()).Append('\t');
                GoText.Quote(sb, h.Name);
                sb.Append('\t').Append(h.FileDescriptor).Append('\t').Append(h.Expand ? "true" : "false").Append('\t')
                  .Append(h.Chomp ? "true" : "false").Append('\t');
                GoText.Quote(sb, h.Content);
                sb.Append('\n');
            }
        }
        return sb.ToString();
    }

    /// <summary>Makes a syntax exception pointing at <paramref name="line"/> of this file.</summary>
    public DockerfileSyntaxException Error(int line, int column, string message) =>
        new(FileName, line, column, message, line >= 1 && line <= SourceLines.Count ? SourceLines[line - 1] : null);
}
