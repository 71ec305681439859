namespace Dbuild.Dockerfile;

/// <summary>An instruction's <c>--flag[=value]</c> words checked against the flags it accepts (BuildKit's BFlags).</summary>
internal sealed class BuilderFlags
{
    private enum Kind { Bool, String, Strings }

    private readonly IReadOnlyList<string> _args;
    private readonly Dictionary<string, Kind> _declared = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _lists = new(StringComparer.Ordinal);

    public BuilderFlags(IReadOnlyList<string> args) => _args = args;

    public BuilderFlags Bool(string name) { _declared[name] = Kind.Bool; return this; }

    public BuilderFlags String(string name) { _declared[name] = Kind.String; return this; }

    public BuilderFlags Strings(string name) { _declared[name] = Kind.Strings; return this; }

    public string? GetString(string name) => _values.TryGetValue(name, out string? v) ? v : null;

    public bool GetBool(string name) => _values.TryGetValue(name, out string? v) && v == "true";

    public bool? GetOptionalBool(string name) => _values.TryGetValue(name, out string? v) ? v == "true" : null;

    public IReadOnlyList<string> GetStrings(string name) => _lists.TryGetValue(name, out List<string>? v) ? v : [];

    /// <summary>Checks every flag; throws FormatException with BuildKit's messages.</summary>
    public void Parse()
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (string arg in _args)
        {
            if (!arg.StartsWith("--", StringComparison.Ordinal)) { throw new FormatException($"arg should start with -- : {arg}"); }
            if (arg == "--") { return; }
            string body = arg[2..];
            int eq = body.IndexOf('=', StringComparison.Ordinal);
            string name = eq < 0 ? body : body[..eq];
            string value = eq < 0 ? "" : body[(eq + 1)..];
            bool hasValue = eq >= 0;
            if (!_declared.TryGetValue(name, out Kind kind))
            {
                throw new FormatException(Suggest.WithSuggestion($"unknown flag: {name}", name, _declared.Keys, true));
            }
            if (!used.Add(name) && kind != Kind.Strings) { throw new FormatException($"duplicate flag specified: {name}"); }
            switch (kind)
            {
                case Kind.Bool:
                    if (hasValue && value.Length == 0) { throw new FormatException($"missing a value on flag: {name}"); }
                    _values[name] = value.ToLowerInvariant() switch
                    {
                        "true" or "" => "true",
                        "false" => "false",
                        _ => throw new FormatException($"expecting boolean value for flag {name}, not: {value}"),
                    };
                    break;
                case Kind.String:
                    if (!hasValue) { throw new FormatException($"missing a value on flag: {name}"); }
                    _values[name] = value;
                    break;
                case Kind.Strings:
                    if (!hasValue) { throw new FormatException($"missing a value on flag: {name}"); }
                    if (!_lists.TryGetValue(name, out List<string>? list)) { _lists[name] = list = []; }
                    list.Add(value);
                    break;
            }
        }
    }
}
