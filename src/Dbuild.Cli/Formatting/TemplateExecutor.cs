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
            _ => throw Error($"range can't iterate over {GoFormat.Print(value)}"),
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
        At(pipe);
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
                return Call(dot, function, command, [.. command.Args.Skip(1)], final);
            case FieldNode field:
                At(field);
                if (command.Args.Count > 1 || final != Missing) { return MethodArguments(field, field.Names[^1], command.Args.Count - 1 + (final == Missing ? 0 : 1), dot); }
                return Fields(dot, field.Names);
            case ChainNode chain:
                At(chain);
                NotAFunction(command, final);
                return Fields(Argument(dot, chain.Node), chain.Names);
            case VariableNode variable:
                At(variable);
                NotAFunction(command, final);
                return Fields(Variable(variable.Names[0]), [.. variable.Names.Skip(1)]);
            case PipeNode pipe:
                NotAFunction(command, final);
                return Pipeline(dot, pipe);
            case NilNode:
                At(first);
                throw Error("nil is not a command");
            default:
                At(first);
                NotAFunction(command, final);
                return Argument(dot, first);
        }
    }

    /// <summary>docker's context fields are methods: given arguments, Go reports the count it wanted.</summary>
    private object? MethodArguments(FieldNode field, string name, int count, object? dot)
    {
        object? receiver = field.Names.Count > 1 ? Fields(dot, [.. field.Names.Take(field.Names.Count - 1)]) : dot;
        At(field);
        if (receiver is ITemplateObject and not GoStruct && Fields(receiver, [name]) is not null) { throw Error($"wrong number of args for {name}: want 0 got {count}"); }
        throw Error($"{name} has arguments but cannot be invoked as function");
    }

    private void NotAFunction(CommandNode command, object? final)
    {
        if (command.Args.Count > 1 || final != Missing) { throw Error($"can't give argument to non-function {command.Args[0]}"); }
    }

    /// <summary>An argument's value; as in Go, the argument becomes the node errors name.</summary>
    private object? Argument(object? dot, TemplateNode node)
    {
        At(node);
        return node switch
        {
            DotNode => dot,
            NilNode => null,
            BoolNode b => b.Value,
            NumberNode n => n.Value,
            StringNode s => s.Text,
            FieldNode field => Fields(dot, field.Names),
            VariableNode variable => Fields(Variable(variable.Names[0]), [.. variable.Names.Skip(1)]),
            ChainNode chain => Fields(Argument(dot, chain.Node), chain.Names),
            PipeNode pipe => Pipeline(dot, pipe),
            IdentifierNode function => Call(dot, function, function, [], Missing),
            _ => throw Error($"can't handle {node}"),
        };
    }

    private void At(TemplateNode node) => _at = node;

    private object? Variable(string name)
    {
        int index = _variables.FindLastIndex(v => v.Name == name);
        return index >= 0 ? _variables[index].Value : throw Error($"undefined variable: {name}");
    }

    private object? Fields(object? receiver, IReadOnlyList<string> names)
    {
        foreach (string name in names)
        {
            receiver = receiver switch
            {
                NoValue => NoValue.Instance,
                null => throw Error($"nil pointer evaluating interface {{}}.{name}"),
                ITemplateObject o => o.TryGetField(name, out object? v) ? v : throw Error($"can't evaluate field {name} in type {o.TypeName}"),
                GoMap map => map.TryGet(name, out object? v) ? v
                    : _missingKeyIsError ? throw Error($"map has no entry for key {TemplateLexer.Quote(name)}") : NoValue.Instance,
                _ => throw Error($"can't evaluate field {name} in type {GoFormat.TypeName(receiver)}"),
            };
        }
        return receiver;
    }

    private object? Call(object? dot, IdentifierNode name, TemplateNode context, List<TemplateNode> argNodes, object? final)
    {
        At(name);
        TemplateFunction function = _functions[name.Name];
        int count = argNodes.Count + (final == Missing ? 0 : 1);
        if (count < function.Fixed || (!function.Variadic && count != function.Fixed))
        {
            throw Error(function.Variadic
                ? $"wrong number of args for {name.Name}: want at least {function.Fixed} got {count}"
                : $"wrong number of args for {name.Name}: want {function.Fixed} got {count}");
        }
        var args = argNodes.Select(a => Argument(dot, a)).ToList();
        if (final != Missing) { args.Add(final); }
        try
        {
            return function.Call(args);
        }
        catch (TemplateArgumentException ex)
        {
            if (ex.Index >= argNodes.Count) { throw Error(ex.Message); }
            TemplateNode refused = argNodes[ex.Index];
            At(refused); // Go checks each argument's type as it evaluates it; a constant is refused by what it is
            throw Error(refused switch
            {
                StringNode or NumberNode or BoolNode when ex.Expected == "string" => $"expected string; found {refused}",
                StringNode or NumberNode or BoolNode when ex.Expected == "int" => $"expected integer; found {refused}",
                StringNode or NumberNode or BoolNode => $"can't handle {refused} for arg of type {ex.Expected}",
                _ => ex.Message,
            });
        }
        catch (TemplateCallException ex)
        {
            At(context);
            throw Error($"error calling {name.Name}: {ex.Message}");
        }
    }

    /// <summary>An error at the node being evaluated (Go's <c>state.errorf</c> names <c>state.node</c>).</summary>
    private TemplateExecutionException Error(string message)
    {
        TemplateNode node = _at!;
        int pos = Math.Min(node.Pos, _text.Length);
        int lineStart = _text.LastIndexOf('\n', Math.Max(pos - 1, 0)) is var nl && nl >= 0 && nl < pos ? nl + 1 : 0;
        int line = 1 + _text.AsSpan(0, pos).Count('\n');
        int column = Encoding.UTF8.GetByteCount(_text.AsSpan(lineStart, pos - lineStart));
        return new TemplateExecutionException($"template: :{line}:{column}: executing \"\" at <{node}>: {message}");
    }
}
