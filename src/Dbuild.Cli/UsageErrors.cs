using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text;

namespace Dbuild.Cli;

/// <summary>
/// Parse errors the way docker's CLI (cobra) words them, on stderr only, exit <see cref="ExitCodes.Usage"/>:
/// <c>unknown flag: --x</c> / <c>unknown shorthand flag: 'z' in -z</c>, <c>"dbuild tag" requires exactly 2 arguments.</c>
/// (with the usage line), <c>flag needs an argument: --filter</c>, each followed by <c>See 'dbuild VERB --help'.</c>
/// A group called without its subcommand (and <c>dbuild</c> alone) prints its help on stderr and exits 0, as docker.
/// </summary>
internal static class UsageErrors
{
    /// <summary>The exit code when the parse result was answered here; null when it should be invoked.</summary>
    public static int? Report(ParseResult result, IReadOnlyList<string> arguments, TextWriter stderr)
    {
        if (result.Action is HelpAction) { return null; }
        CommandResult commandResult = result.CommandResult;
        Command command = commandResult.Command;
        string path = CommandPath(commandResult);
        string see = $"See '{path} --help'.";
        // Before the parser's own errors: it takes an unknown --x as the value of a free argument, cobra never does.
        if (UnknownFlag(arguments, commandResult) is { } unknown) { return Write(stderr, unknown, see); }
        // Before the error count too: with a free argument, the parser splits --quiet=x and takes x as that argument.
        if (BadBoolean(arguments, commandResult) is { } boolean) { return Write(stderr, boolean, see); }
        if (result.Errors.Count == 0) { return null; }
        IReadOnlyList<string> unmatched = result.UnmatchedTokens;
        if (command.Subcommands.Count > 0 && command.Arguments.Count == 0)
        {
            if (unmatched.Count > 0)
            {
                string verb = commandResult.Parent is null ? unmatched[0] : $"{path["dbuild ".Length..]} {unmatched[0]}";
                return Write(stderr, $"dbuild: '{verb}' is not a dbuild command.", $"See '{path} --help'.");
            }
            if (command.Action is null)
            {
                // docker with no verb, or `docker image`: the help, on stderr, exit 0.
                result.RootCommandResult.Command.Parse([.. PathTokens(commandResult), "--help"]).Invoke(new InvocationConfiguration { Output = stderr });
                return ExitCodes.Ok;
            }
        }
        ParseError first = result.Errors.FirstOrDefault(e => e.SymbolResult is OptionResult) ?? result.Errors[0];
        if (first.SymbolResult is OptionResult { Option: { } option } optionResult && optionResult.Tokens.Count == 0 && option.Arity.MinimumNumberOfValues > 0)
        {
            string given = optionResult.IdentifierToken?.Value ?? option.Name;
            return Write(stderr, given.StartsWith("--", StringComparison.Ordinal) ? $"flag needs an argument: {given}" : $"flag needs an argument: '{given[1..]}' in {given}", see);
        }
        if (first.SymbolResult is OptionResult { Option: { } bad } badResult)
        {
            string value = string.Join(',', badResult.Tokens.Select(t => t.Value));
            return Write(stderr, $"invalid argument \"{value}\" for \"{FlagNames(bad)}\" flag: {first.Message}", see);
        }
        if (ArityMessage(commandResult, unmatched.Count, path) is { } arity)
        {
            return Write(stderr, arity, see, "", Usage(command, path), "", command.Description ?? "");
        }
        return Write(stderr, first.Message, see);
    }

    /// <summary>
    /// cobra's reading of the raw arguments up to <c>--</c>: every <c>--name</c> must be a flag of the command (or a
    /// global one), every letter of a <c>-abc</c> bundle too, until one that takes a value (<c>-tNAME</c>); the token
    /// after a flag that takes a value is that value, whatever it looks like.
    /// </summary>
    private static string? UnknownFlag(IReadOnlyList<string> arguments, CommandResult commandResult)
    {
        var options = VisibleOptions(commandResult).ToList();
        Option? Find(string name) => options.FirstOrDefault(o => o.Name == name || o.Aliases.Contains(name));
        bool valueNext = false;
        foreach (string argument in arguments.TakeWhile(a => a != "--"))
        {
            bool isValue = valueNext;
            valueNext = false;
            if (isValue || !IsFlag(argument)) { continue; }
            int eq = argument.IndexOf('=', StringComparison.Ordinal);
            if (argument.StartsWith("--", StringComparison.Ordinal))
            {
                Option? option = Find(eq < 0 ? argument : argument[..eq]);
                if (option is null) { return $"unknown flag: {(eq < 0 ? argument : argument[..eq])}"; }
                valueNext = eq < 0 && !IsSwitch(option);
                continue;
            }
            for (int i = 1; i < argument.Length && argument[i] != '='; i++)
            {
                Option? option = Find("-" + argument[i]);
                if (option is null) { return $"unknown shorthand flag: '{argument[i]}' in {argument}"; }
                if (!IsSwitch(option))
                {
                    valueNext = i == argument.Length - 1; // -t VALUE; -tVALUE carries it
                    break;
                }
            }
        }
        return null;
    }

    private static bool IsSwitch(Option option) =>
        option.Arity.MaximumNumberOfValues == 0 || option.ValueType == typeof(bool) || option.ValueType == typeof(bool?);

    /// <summary><c>--quiet=x</c>: the parser leaves x as an argument; cobra says the value is no boolean.</summary>
    private static string? BadBoolean(IReadOnlyList<string> arguments, CommandResult commandResult)
    {
        foreach (string argument in arguments.TakeWhile(a => a != "--"))
        {
            int eq = argument.IndexOf('=', StringComparison.Ordinal);
            if (!IsFlag(argument) || eq < 0) { continue; }
            string name = argument[..eq], value = argument[(eq + 1)..];
            Option? option = VisibleOptions(commandResult).FirstOrDefault(o => o.Name == name || o.Aliases.Contains(name));
            if (option?.ValueType == typeof(bool) && !bool.TryParse(value, out _))
            {
                return $"invalid argument \"{value}\" for \"{FlagNames(option)}\" flag: not a boolean (true or false)";
            }
        }
        return null;
    }

    private static bool IsFlag(string token) => token.Length > 1 && token[0] == '-';

    private static IEnumerable<Option> VisibleOptions(CommandResult commandResult)
    {
        foreach (Option option in commandResult.Command.Options) { yield return option; }
        for (SymbolResult? parent = commandResult.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is CommandResult c)
            {
                foreach (Option option in c.Command.Options.Where(o => o.Recursive)) { yield return option; }
            }
        }
    }

    /// <summary>cobra's ExactArgs / MinimumNArgs / MaximumNArgs / RangeArgs wording when the count is off.</summary>
    private static string? ArityMessage(CommandResult commandResult, int extra, string path)
    {
        IList<Argument> arguments = commandResult.Command.Arguments;
        int given = commandResult.Tokens.Count(t => t.Type == TokenType.Argument) + extra;
        int min = arguments.Sum(a => a.Arity.MinimumNumberOfValues);
        long max = arguments.Sum(a => (long)a.Arity.MaximumNumberOfValues);
        bool unbounded = arguments.Any(a => a.Arity.MaximumNumberOfValues > 1000);
        if (given >= min && (unbounded || given <= max)) { return null; }
        string Plural(long n) => n == 1 ? "argument" : "arguments";
        string n(long value) => value.ToString(CultureInfo.InvariantCulture);
        return (min, max, unbounded) switch
        {
            _ when !unbounded && max == 0 => $"\"{path}\" accepts no arguments.",
            _ when !unbounded && min == max => $"\"{path}\" requires exactly {n(min)} {Plural(min)}.",
            _ when unbounded => $"\"{path}\" requires at least {n(min)} {Plural(min)}.",
            _ when min == 0 => $"\"{path}\" requires at most {n(max)} {Plural(max)}.",
            _ => $"\"{path}\" requires at least {n(min)} and at most {n(max)} {Plural(max)}.",
        };
    }

    /// <summary><c>Usage:  dbuild tag [OPTIONS] SOURCE TARGET</c>, from the command's arguments and their arity.</summary>
    internal static string Usage(Command command, string path)
    {
        var text = new StringBuilder("Usage:  ").Append(path);
        if (command.Options.Any(o => !o.Hidden)) { text.Append(" [OPTIONS]"); }
        foreach (Argument argument in command.Arguments.Where(a => !a.Hidden))
        {
            string name = argument.Name.ToUpperInvariant();
            ArgumentArity arity = argument.Arity;
            text.Append(' ').Append(arity switch
            {
                { MinimumNumberOfValues: 0, MaximumNumberOfValues: 1 } => $"[{name}]",
                { MinimumNumberOfValues: 0 } => $"[{name}...]",
                { MaximumNumberOfValues: > 1 } => $"{name} [{name}...]",
                _ => name,
            });
        }
        if (command.Subcommands.Count > 0 && command.Arguments.Count == 0) { text.Append(" COMMAND"); }
        return text.ToString();
    }

    internal static string CommandPath(CommandResult commandResult) => string.Join(' ', ["dbuild", .. PathTokens(commandResult)]);

    private static List<string> PathTokens(CommandResult commandResult)
    {
        var names = new List<string>();
        for (SymbolResult? r = commandResult; r is not null; r = r.Parent)
        {
            if (r is CommandResult { Parent: not null } c) { names.Insert(0, c.Command.Name); }
        }
        return names;
    }

    private static string FlagNames(Option option)
    {
        string? shorthand = option.Aliases.FirstOrDefault(a => a.Length == 2 && a[0] == '-');
        return shorthand is null ? option.Name : $"{shorthand}, {option.Name}";
    }

    private static int Write(TextWriter stderr, params string[] lines)
    {
        foreach (string line in lines) { stderr.WriteLine(line); }
        return ExitCodes.Usage;
    }
}
