using System.Text.RegularExpressions;

namespace Dbuild.Dockerfile;

/// <summary>Tracks parser directives: only at the top of the file, each at most once.</summary>
internal sealed partial class Directives
{
    private static readonly HashSet<string> Valid = new(StringComparer.Ordinal) { "escape", "syntax", "check" };
    private readonly List<ParserDirective> _all = [];

    [GeneratedRegex(@"^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$", RegexOptions.CultureInvariant)]
    private static partial Regex DirectiveRegex();

    public char EscapeToken { get; private set; } = '\\';

    public bool Active { get; private set; } = true;

    public IReadOnlyList<ParserDirective> All => _all;

    public void ParseLine(string line, int lineNumber)
    {
        if (!Active) { return; }
        Match match = line.Length > 0 && line[0] == '#' && !line.Contains('\n', StringComparison.Ordinal) ? DirectiveRegex().Match(line) : Match.Empty;
        if (!match.Success)
        {
            Active = false;
            return;
        }
        string name = match.Groups[1].Value.ToLowerInvariant();
        if (!Valid.Contains(name))
        {
            Active = false;
            return;
        }
        if (_all.Any(d => d.Name == name))
        {
            throw new FormatException($"only one {name} parser directive can be used");
        }
        string value = match.Groups[2].Value;
        _all.Add(new ParserDirective(name, value, lineNumber));
        if (name == "escape")
        {
            if (value is not ("`" or "\\"))
            {
                throw new FormatException($"invalid escape token '{value}' does not match ` or \\");
            }
            EscapeToken = value[0];
        }
    }
}
