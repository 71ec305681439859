using System.Text;

namespace Dbuild.Dockerfile;

/// <summary>
/// One node of BuildKit's Dockerfile AST. A top-level node is an instruction (<see cref="Value"/> is the keyword in
/// lower case); its arguments hang off <see cref="Next"/> as a chain; ONBUILD's trigger sits in the first argument's
/// <see cref="Children"/>. Lines are 1-based.
/// </summary>
public sealed class Node
{
    private static readonly IReadOnlyList<Node> NoNodes = [];

    /// <summary>The keyword (lower case) for an instruction, the text for an argument.</summary>
    public string Value { get; internal set; } = "";

    /// <summary>The next argument.</summary>
    public Node? Next { get; internal set; }

    /// <summary>Instructions (root) or the nested ONBUILD trigger.</summary>
    public IReadOnlyList<Node> Children { get; internal set; } = NoNodes;

    /// <summary>Leading <c>--name[=value]</c> words, quotes removed.</summary>
    public IReadOnlyList<string> Flags { get; internal set; } = [];

    /// <summary>True when the arguments came from a JSON array (exec form).</summary>
    public bool IsJson { get; internal set; }

    /// <summary>The instruction's joined logical line as written (continuations removed).</summary>
    public string Original { get; internal set; } = "";

    /// <summary>The keyword as written (its original case).</summary>
    public string Keyword { get; internal set; } = "";

    /// <summary>First source line.</summary>
    public int StartLine { get; internal set; }

    /// <summary>Last source line (including heredoc bodies).</summary>
    public int EndLine { get; internal set; }

    /// <summary>1-based column of the keyword on <see cref="StartLine"/>.</summary>
    public int Column { get; internal set; } = 1;

    /// <summary>Here-documents, in order.</summary>
    public IReadOnlyList<Heredoc> Heredocs { get; internal set; } = [];

    /// <summary>Comment lines directly above the instruction, '#' removed.</summary>
    public IReadOnlyList<string> PrevComment { get; internal set; } = [];

    /// <summary>The argument values along the <see cref="Next"/> chain.</summary>
    public IEnumerable<Node> Arguments
    {
        get
        {
            for (Node? n = Next; n is not null; n = n.Next) { yield return n; }
        }
    }

    /// <summary>True for RUN, COPY and ADD in shell form, also as an ONBUILD trigger.</summary>
    internal bool CanContainHeredoc()
    {
        Node node = this;
        if (node.Value == "onbuild" && node.Next is { Children.Count: > 0 } next) { node = next.Children[0]; }
        return node.Value is "add" or "copy" or "run" && !node.IsJson;
    }

    /// <summary>BuildKit's <c>Node.Dump()</c>: the s-expression form of the <c>result</c> files (no trailing newline).</summary>
    public string Dump()
    {
        var sb = new StringBuilder();
        DumpTo(sb);
        return GoText.TrimSpace(sb.ToString());
    }

    internal void DumpTo(StringBuilder sb)
    {
        sb.Append(Value.ToLowerInvariant());
        if (Flags.Count > 0)
        {
            sb.Append(" [");
            for (int i = 0; i < Flags.Count; i++)
            {
                if (i > 0) { sb.Append(' '); }
                GoText.Quote(sb, Flags[i]);
            }
            sb.Append(']');
        }
        foreach (Node child in Children)
        {
            sb.Append('(').Append(child.Dump()).Append(")\n");
        }
        for (Node? n = Next; n is not null; n = n.Next)
        {
            sb.Append(' ');
            if (n.Children.Count > 0) { sb.Append(n.Dump()); } else { GoText.Quote(sb, n.Value); }
        }
    }
}
