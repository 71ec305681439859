using System.Text;

namespace Dbuild.Cli.Formatting;

/// <summary>Runs a parsed template over a value, as Go's <c>text/template</c> executes (the parts docker users write).</summary>
internal sealed class TemplateExecutor
{
    private static readonly object Missing = new();
    private readonly string _text;
    private readonly IReadOnlyDictionary<string, TemplateFunction> _functions;
    private readonly List<(string Name, object? Value)> _variables = [];
    private readonly StringBuilder _output = new();

    private readonly bool _missingKeyIsError;

    /// <summary>The node being evaluated, which Go names in errors that have no node of their own.</summary>
    private TemplateNode? _at;

    private TemplateExecutor(string text, IReadOnlyDictionary<string, TemplateFunction> functions, bool missingKeyIsError) =>
        (_text, _functions, _missingKeyIsError) = (text, functions, missingKeyIsError);

    /// <summary>Runs the template; with <paramref name="missingKeyIsError"/>, Go's <c>missingkey=error</c> option.</summary>
    public static string Execute(string text, ListNode root, object? data, IReadOnlyDictionary<string, TemplateFunction> functions, bool missingKeyIsError = false)
    {
        var executor = new TemplateExecutor(text, functions, missingKeyIsError);
        executor._variables.Add(("$", data));
        executor.Walk(data, root);
        return executor._output.ToString();
    }

    private void Walk(object? dot, TemplateNode node)
    {
        switch (node)
        {
            case TextNode text:
                _output.Append(text.Text);
                break;
            case ListNode list:
                foreach (TemplateNode child in list.Nodes) { Walk(dot, child); }
                break;
            case ActionNode action:
                object? value = Pipeline(dot, action.Pipe);
                if (action.Pipe.Declarations.Count == 0) { _output.Append(GoFormat.Print(value)); }
                break;
            case BranchNode { Keyword: "range" } range:
                Range(dot, range);
                break;
            case BranchNode branch:
                int mark = _variables.Count;
                object? test = Pipeline(dot, branch.Pipe);
                if (GoFormat.IsTrue(test)) { Walk(branch.Keyword == "with" ? test : dot, branch.List); }
                else if (branch.Else is not null) { Walk(dot, branch.Else); }
                _variables.RemoveRange(mark, _variables.Count - mark);
                break;
        }
    }

    private void Range(object? dot, BranchNode range)
    {
        int mark = _variables.Count;
        PipeNode pipe = range.Pipe with { Declarations = [] };
        object? value = Pipeline(dot, pipe);
        IEnumerable<(object? Key, object? Value)> items = value switch
        {
            GoSlice slice => slice.Items.Select((item, i) => ((object?)(long)i, item)),
            GoMap map => map.Sorted.Select(e => ((object?)e.Key, e.Value)),
            null or NoValue => [],
            _ => throw Error(_at ?? range, $"range can't iterate over {GoFormat.Print(value)}"),
        };
        bool any = false;
        foreach ((object? key, object? item) in items)
        {
            any = true;
            IReadOnlyList<string> declared = range.Pipe.Declarations;
            if (declared.Count == 1) { _variables.Add((declared[0], item)); }
            else if (declared.Count == 2) { _variables.Add((declared[0], key)); _variables.Add((declared[1], item)); }
            Walk(item, range.List);
            _variables.RemoveRange(mark, _variables.Count - mark);
        }
        if (!any && range.Else is not null) { Walk(dot, range.Else); }
    }

    private object? Pipeline(object? dot, PipeNode pipe)
    {
        object? value = Missing;
        foreach (CommandNode command in pipe.Commands) { value = Command(dot, command, value); }
        foreach (string name in pipe.Declarations)
        {
            int existing = _variables.FindLastIndex(v => v.Name == name);
            if (pipe.IsAssign && existing >= 0) { _variables[existing] = (name, value); }
            else { _variables.Add((name, value)); }
        }
        return value;
    }

    private object? Command(object? dot, CommandNode command, object? final)
    {
        TemplateNode first = command.Args[0];
        switch (first)
        {
            case IdentifierNode function:
                return Call(dot, function, command, command.Args.Skip(1).ToList(), final);
            case FieldNode field:
                NotAFunction(command, final);
                return Fields(field, dot, field.Names);
            case VariableNode variable:
                NotAFunction(command, final);
                return Fields(variable, Variable(variable, variable.Names[0]), variable.Names.Skip(1).ToList());
            case ChainNode chain:
                NotAFunction(command, final);
                return Fields(chain, Argument(dot, chain.Node), chain.Names);
            case NilNode:
                throw Error(first, "nil is not a command");
            default:
                NotAFunction(command, final);
                return Argument(dot, first);
        }
    }

    private void NotAFunction(CommandNode command, object? final)
    {
        if (command.Args.Count > 1 || final != Missing) { throw Error(command.Args[0], $"can't give argument to non-function {command.Args[0]}"); }
    }

    private object? Argument(object? dot, TemplateNode node) => node switch
    {
        DotNode => dot,
        NilNode => null,
        BoolNode b => b.Value,
        NumberNode n => n.Value,
        StringNode s => s.Text,
        FieldNode field => Fields(field, dot, field.Names),
        VariableNode variable => Fields(variable, Variable(variable, variable.Names[0]), variable.Names.Skip(1).ToList()),
        ChainNode chain => Fields(chain, Argument(dot, chain.Node), chain.Names),
        PipeNode pipe => Pipeline(dot, pipe),
        IdentifierNode function => Call(dot, function, function, [], Missing),
        _ => throw Error(node, $"can't handle {node}"),
    };

    private object? Variable(TemplateNode node, string name)
    {
        int index = _variables.FindLastIndex(v => v.Name == name);
        return index >= 0 ? _variables[index].Value : throw Error(node, $"undefined variable: {name}");
    }

    private object? Fields(TemplateNode node, object? receiver, IReadOnlyList<string> names)
    {
        _at = node;
        foreach (string name in names)
        {
            receiver = receiver switch
            {
                NoValue => NoValue.Instance,
                null => throw Error(node, $"nil pointer evaluating interface {{}}.{name}"),
                ITemplateObject o => o.TryGetField(name, out object? v) ? v : throw Error(node, $"can't evaluate field {name} in type {o.TypeName}"),
                GoMap map => map.TryGet(name, out object? v) ? v
                    : _missingKeyIsError ? throw Error(node, $"map has no entry for key {TemplateLexer.Quote(name)}") : NoValue.Instance,
                _ => throw Error(node, $"can't evaluate field {name} in type {GoFormat.TypeName(receiver)}"),
            };
        }
        return receiver;
    }

    private object? Call(object? dot, IdentifierNode name, TemplateNode context, List<TemplateNode> argNodes, object? final)
    {
        _at = name;
        TemplateFunction function = _functions[name.Name];
        int count = argNodes.Count + (final == Missing ? 0 : 1);
        if (count < function.Fixed || (!function.Variadic && count != function.Fixed))
        {
            throw Error(name, function.Variadic
                ? $"wrong number of args for {name.Name}: want at least {function.Fixed} got {count}"
                : $"wrong number of args for {name.Name}: want {function.Fixed} got {count}");
        }
        var args = argNodes.Select(a => Argument(dot, a)).ToList();
        if (final != Missing) { args.Add(final); }
        try
        {
            return function.Call(args);
        }
        catch (TemplateArgumentException ex) { throw Error(context, ex.Message); }
        catch (TemplateCallException ex) { throw Error(context, $"error calling {name.Name}: {ex.Message}"); }
    }

    private TemplateExecutionException Error(TemplateNode node, string message)
    {
        int pos = Math.Min(node.Pos, _text.Length);
        int lineStart = _text.LastIndexOf('\n', Math.Max(pos - 1, 0)) is var nl && nl >= 0 && nl < pos ? nl + 1 : 0;
        int line = 1 + _text.AsSpan(0, pos).Count('\n');
        int column = Encoding.UTF8.GetByteCount(_text.AsSpan(lineStart, pos - lineStart));
        return new TemplateExecutionException($"template: :{line}:{column}: executing \"\" at <{node}>: {message}");
    }
}
