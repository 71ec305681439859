namespace Dbuild.Cli.Formatting;

/// <summary>A node of a parsed template, at a byte offset of the template text (Go's <c>text/template/parse</c> nodes).</summary>
internal abstract record TemplateNode(int Pos)
{
    /// <summary>The node as Go prints it in an error's context (<c>at &lt;.Foo&gt;</c>).</summary>
    public abstract override string ToString();
}

internal sealed record TextNode(int Pos, string Text) : TemplateNode(Pos)
{
    public override string ToString() => Text;
}

internal sealed record ListNode(int Pos, IReadOnlyList<TemplateNode> Nodes) : TemplateNode(Pos)
{
    public override string ToString() => string.Concat(Nodes);
}

internal sealed record ActionNode(int Pos, PipeNode Pipe) : TemplateNode(Pos)
{
    public override string ToString() => "{{" + Pipe + "}}";
}

/// <summary><c>if</c>, <c>range</c> or <c>with</c>, with an optional <c>else</c> list.</summary>
internal sealed record BranchNode(int Pos, string Keyword, PipeNode Pipe, ListNode List, ListNode? Else) : TemplateNode(Pos)
{
    public override string ToString() => $"{{{{{Keyword} {Pipe}}}}}{List}" + (Else is null ? "" : "{{else}}" + Else) + "{{end}}";
}

/// <summary>A pipeline: optional variable declarations (<c>$x :=</c>) and commands joined by <c>|</c>.</summary>
internal sealed record PipeNode(int Pos, IReadOnlyList<string> Declarations, bool IsAssign, IReadOnlyList<CommandNode> Commands) : TemplateNode(Pos)
{
    public override string ToString() =>
        (Declarations.Count > 0 ? string.Join(", ", Declarations) + (IsAssign ? " = " : " := ") : "") + string.Join(" | ", Commands);
}

internal sealed record CommandNode(int Pos, IReadOnlyList<TemplateNode> Args) : TemplateNode(Pos)
{
    public override string ToString() => string.Join(" ", Args.Select(a => a is PipeNode ? "(" + a + ")" : a.ToString()));
}

internal sealed record FieldNode(int Pos, IReadOnlyList<string> Names) : TemplateNode(Pos)
{
    public override string ToString() => "." + string.Join(".", Names);
}

/// <summary><c>$x</c> or <c>$x.Field.Field</c>; Names[0] is the variable.</summary>
internal sealed record VariableNode(int Pos, IReadOnlyList<string> Names) : TemplateNode(Pos)
{
    public override string ToString() => string.Join(".", Names);
}

internal sealed record ChainNode(int Pos, TemplateNode Node, IReadOnlyList<string> Names) : TemplateNode(Pos)
{
    public override string ToString() => (Node is PipeNode ? "(" + Node + ")" : Node.ToString()) + "." + string.Join(".", Names);
}

internal sealed record IdentifierNode(int Pos, string Name) : TemplateNode(Pos)
{
    public override string ToString() => Name;
}

internal sealed record DotNode(int Pos) : TemplateNode(Pos)
{
    public override string ToString() => ".";
}

internal sealed record NilNode(int Pos) : TemplateNode(Pos)
{
    public override string ToString() => "nil";
}

internal sealed record BoolNode(int Pos, bool Value) : TemplateNode(Pos)
{
    public override string ToString() => Value ? "true" : "false";
}

/// <summary>A number constant: <see cref="Value"/> is a long or a double.</summary>
internal sealed record NumberNode(int Pos, string Text, object Value) : TemplateNode(Pos)
{
    public override string ToString() => Text;
}

internal sealed record StringNode(int Pos, string Quoted, string Text) : TemplateNode(Pos)
{
    public override string ToString() => Quoted;
}
