using System.Globalization;

namespace Dbuild.Cli.Formatting;

/// <summary>Parses a template into nodes as Go's <c>text/template/parse</c> does, with its error messages.</summary>
internal sealed class TemplateParser
{
    private readonly string _text;
    private readonly IReadOnlyList<TemplateToken> _tokens;
    private readonly Func<string, bool> _isFunction;
    private readonly List<string> _variables = ["$"];
    private int _next;

    private TemplateParser(string text, Func<string, bool> isFunction)
    {
        _text = text;
        _tokens = TemplateLexer.Lex(text);
        _isFunction = isFunction;
    }

    /// <summary>Parses <paramref name="text"/>; identifiers must be functions <paramref name="isFunction"/> knows.</summary>
    public static ListNode Parse(string text, Func<string, bool> isFunction)
    {
        var parser = new TemplateParser(text, isFunction);
        (ListNode list, TemplateToken end) = parser.ItemList(topLevel: true);
        return end.Kind == TokenKind.Eof ? list : throw parser.Error(end, $"unexpected {end.Text}");
    }

    private TemplateToken Peek() => _tokens[_next];

    private TemplateToken Next() => _tokens[_next++];

    private TemplateToken PeekNonSpace()
    {
        while (_tokens[_next].Kind == TokenKind.Space) { _next++; }
        return _tokens[_next];
    }

    private TemplateToken NextNonSpace()
    {
        TemplateToken token = PeekNonSpace();
        _next++;
        return token;
    }

    /// <summary>Nodes up to EOF (top level) or up to <c>{{end}}</c>/<c>{{else…}}</c>, returned as the end marker.</summary>
    private (ListNode List, TemplateToken End) ItemList(bool topLevel)
    {
        var nodes = new List<TemplateNode>();
        int pos = Peek().Pos;
        while (true)
        {
            TemplateToken token = Next();
            if (token.Kind == TokenKind.Eof)
            {
                if (!topLevel) { throw Error(token, "unexpected EOF"); }
                return (new ListNode(pos, nodes), token);
            }
            if (token.Kind == TokenKind.Text) { nodes.Add(new TextNode(token.Pos, token.Text)); continue; }
            TemplateToken keyword = PeekNonSpace();
            if (keyword.Kind == TokenKind.Identifier && keyword.Text is "end" or "else")
            {
                NextNonSpace();
                if (topLevel) { throw Error(keyword, $"unexpected {{{{{keyword.Text}}}}}"); }
                return (new ListNode(pos, nodes), keyword);
            }
            nodes.Add(Action());
        }
    }

    private TemplateNode Action()
    {
        TemplateToken token = PeekNonSpace();
        if (token.Kind == TokenKind.Identifier)
        {
            switch (token.Text)
            {
                case "if" or "range" or "with":
                    NextNonSpace();
                    return Branch(token);
                case "define" or "template" or "block" or "break" or "continue":
                    throw Error(token, $"{{{{{token.Text}}}}} is not supported in --format");
            }
        }
        return new ActionNode(token.Pos, Pipeline("command", TokenKind.RightDelim));
    }

    private BranchNode Branch(TemplateToken keyword)
    {
        int variables = _variables.Count;
        PipeNode pipe = Pipeline(keyword.Text, TokenKind.RightDelim);
        (ListNode list, TemplateToken end) = ItemList(topLevel: false);
        ListNode? elseList = null;
        if (end.Text == "else")
        {
            TemplateToken after = PeekNonSpace();
            if (keyword.Text == "if" && after.Kind == TokenKind.Identifier && after.Text == "if")
            {
                // {{else if X}} is {{else}}{{if X}}…{{end}}{{end}} sharing one {{end}}.
                NextNonSpace();
                BranchNode nested = Branch(after);
                elseList = new ListNode(after.Pos, [nested]);
            }
            else
            {
                Expect(TokenKind.RightDelim, "else");
                (elseList, end) = ItemList(topLevel: false);
                if (end.Text != "end") { throw Error(end, "expected end; found {{else}}"); }
                Expect(TokenKind.RightDelim, "end");
            }
        }
        else { Expect(TokenKind.RightDelim, "end"); }
        _variables.RemoveRange(variables, _variables.Count - variables);
        return new BranchNode(keyword.Pos, keyword.Text, pipe, list, elseList);
    }

    private void Expect(TokenKind kind, string context)
    {
        TemplateToken token = NextNonSpace();
        if (token.Kind != kind) { throw Error(token, $"unexpected {Describe(token)} in {context}"); }
    }

    private PipeNode Pipeline(string context, TokenKind end)
    {
        int pos = PeekNonSpace().Pos;
        var declarations = new List<string>();
        bool isAssign = false;
        int mark = _next;
        if (PeekNonSpace().Kind == TokenKind.Variable)
        {
            TemplateToken variable = NextNonSpace();
            TemplateToken after = PeekNonSpace();
            if (after.Kind is TokenKind.Declare or TokenKind.Assign)
            {
                NextNonSpace();
                declarations.Add(variable.Text);
                isAssign = after.Kind == TokenKind.Assign;
            }
            else if (after.Kind == TokenKind.Comma && context == "range")
            {
                NextNonSpace();
                TemplateToken second = NextNonSpace();
                if (second.Kind != TokenKind.Variable || NextNonSpace().Kind != TokenKind.Declare) { throw Error(second, "range can only initialize variables"); }
                declarations.AddRange([variable.Text, second.Text]);
            }
            else { _next = mark; }
        }
        foreach (string declared in declarations)
        {
            if (isAssign && !_variables.Contains(declared)) { throw Error(Peek(), $"undefined variable {TemplateLexer.Quote(declared)}"); }
            if (!isAssign) { _variables.Add(declared); }
        }
        var commands = new List<CommandNode>();
        while (true)
        {
            TemplateToken token = PeekNonSpace();
            if (token.Kind == end)
            {
                NextNonSpace();
                if (commands.Count == 0) { throw Error(token, $"missing value for {context}"); }
                return new PipeNode(pos, declarations, isAssign, commands);
            }
            if (token.Kind is TokenKind.Eof) { throw Error(token, "unclosed action"); }
            commands.Add(Command());
        }
    }

    private CommandNode Command()
    {
        int pos = PeekNonSpace().Pos;
        var args = new List<TemplateNode>();
        while (true)
        {
            PeekNonSpace();
            TemplateNode? operand = Operand();
            if (operand is not null) { args.Add(operand); }
            TemplateToken token = Peek();
            switch (token.Kind)
            {
                case TokenKind.Space:
                    continue;
                case TokenKind.RightDelim or TokenKind.RightParen:
                    break;
                case TokenKind.Pipe:
                    Next();
                    if (args.Count == 0) { throw Error(token, "missing value for command"); }
                    if (PeekNonSpace().Kind is TokenKind.RightDelim or TokenKind.RightParen) { throw Error(token, "missing value for command"); }
                    return new CommandNode(pos, args);
                default:
                    throw Error(token, $"unexpected {Describe(token)} in operand");
            }
            if (args.Count == 0) { throw Error(token, "empty command"); }
            return new CommandNode(pos, args);
        }
    }

    private TemplateNode? Operand()
    {
        TemplateNode? node = Term();
        if (node is null) { return null; }
        if (Peek().Kind != TokenKind.Field) { return node; }
        // Go gives the chained node the position of its first added field (.Tag.Foo is at .Foo).
        int pos = Peek().Pos;
        var names = new List<string>();
        while (Peek().Kind == TokenKind.Field) { names.Add(Next().Text[1..]); }
        return node switch
        {
            FieldNode field => new FieldNode(pos, [.. field.Names, .. names]),
            VariableNode variable => new VariableNode(pos, [.. variable.Names, .. names]),
            BoolNode or StringNode or NumberNode or NilNode or DotNode => throw Error(Peek(), $"unexpected . after term {TemplateLexer.Quote(node.ToString())}"),
            _ => new ChainNode(pos, node, names),
        };
    }

    private TemplateNode? Term()
    {
        TemplateToken token = Peek();
        switch (token.Kind)
        {
            case TokenKind.Identifier:
                Next();
                return _isFunction(token.Text) ? new IdentifierNode(token.Pos, token.Text) : throw Error(token, $"function {TemplateLexer.Quote(token.Text)} not defined");
            case TokenKind.Dot: Next(); return new DotNode(token.Pos);
            case TokenKind.Nil: Next(); return new NilNode(token.Pos);
            case TokenKind.Bool: Next(); return new BoolNode(token.Pos, token.Text == "true");
            case TokenKind.Field: Next(); return new FieldNode(token.Pos, [token.Text[1..]]);
            case TokenKind.Variable:
                Next();
                return _variables.Contains(token.Text) ? new VariableNode(token.Pos, [token.Text]) : throw Error(token, $"undefined variable {TemplateLexer.Quote(token.Text)}");
            case TokenKind.String: Next(); return new StringNode(token.Pos, token.Text, token.Value!);
            case TokenKind.Number: Next(); return Number(token);
            case TokenKind.LeftParen:
                Next();
                return Pipeline("parenthesized pipeline", TokenKind.RightParen);
            default:
                return null;
        }
    }

    private NumberNode Number(TemplateToken token)
    {
        string text = (token.Value ?? token.Text).Replace("_", "", StringComparison.Ordinal);
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && long.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long hex)) { return new NumberNode(token.Pos, token.Text, hex); }
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long integer)) { return new NumberNode(token.Pos, token.Text, integer); }
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double real)) { return new NumberNode(token.Pos, token.Text, real); }
        throw Error(token, $"bad number syntax: {TemplateLexer.Quote(token.Text)}");
    }

    private static string Describe(TemplateToken token) => token.Kind switch
    {
        TokenKind.Eof => "EOF",
        TokenKind.RightDelim => "\"}}\"",
        _ => TemplateLexer.Quote(token.Text),
    };

    private TemplateParseException Error(TemplateToken token, string message) =>
        new($"template: :{1 + _text.AsSpan(0, Math.Min(token.Pos, _text.Length)).Count('\n')}: {message}");
}
