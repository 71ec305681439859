using System.Text;
using System.Text.RegularExpressions;

namespace Dbuild.Dockerfile;

/// <summary>One .dockerignore pattern compiled like moby/patternmatcher (exact, prefix, suffix or regexp match).</summary>
internal sealed class IgnorePattern
{
    private enum MatchType { Exact, Prefix, Suffix, Regex }

    private readonly MatchType _type;
    private readonly Regex? _regex;

    public IgnorePattern(string cleaned, bool exclusion)
    {
        Cleaned = cleaned;
        Exclusion = exclusion;
        Parts = cleaned.Split('/');
        var sb = new StringBuilder("^");
        _type = MatchType.Exact;
        for (int i = 0, pos = 0; pos < cleaned.Length; i++)
        {
            char ch = cleaned[pos++];
            if (ch == '*')
            {
                if (pos < cleaned.Length && cleaned[pos] == '*')
                {
                    pos++;
                    if (pos < cleaned.Length && cleaned[pos] == '/') { pos++; }
                    if (pos >= cleaned.Length)
                    {
                        if (_type == MatchType.Exact) { _type = MatchType.Prefix; }
                        else
                        {
                            sb.Append(".*");
                            _type = MatchType.Regex;
                        }
                    }
                    else
                    {
                        sb.Append("(.*/)?");
                        _type = MatchType.Regex;
                    }
                    if (i == 0) { _type = MatchType.Suffix; }
                }
                else
                {
                    sb.Append("[^/]*");
                    _type = MatchType.Regex;
                }
            }
            else if (ch == '?')
            {
                sb.Append("[^/]");
                _type = MatchType.Regex;
            }
            else if (ch is '.' or '+' or '(' or ')' or '|' or '{' or '}' or '$')
            {
                sb.Append('\\').Append(ch);
            }
            else if (ch == '\\')
            {
                if (pos < cleaned.Length)
                {
                    sb.Append('\\').Append(cleaned[pos++]);
                    _type = MatchType.Regex;
                }
                else
                {
                    sb.Append("\\\\");
                }
            }
            else if (ch is '[' or ']')
            {
                sb.Append(ch);
                _type = MatchType.Regex;
            }
            else if (ch is '#' or ' ')
            {
                sb.Append('\\').Append(ch);
            }
            else
            {
                sb.Append(ch);
            }
        }
        if (_type == MatchType.Regex)
        {
            sb.Append('$');
            try
            {
                _regex = new Regex(sb.ToString(), RegexOptions.CultureInvariant | RegexOptions.Singleline);
            }
            catch (ArgumentException)
            {
                throw new FormatException($"syntax error in pattern: {cleaned}");
            }
        }
        // filepath.Match rejects an unclosed character class.
        if (cleaned.Count(c => c == '[') > cleaned.Count(c => c == ']')) { throw new FormatException($"syntax error in pattern: {cleaned}"); }
        LiteralPrefix = ComputeLiteralPrefix();
    }

    public string Cleaned { get; }

    public bool Exclusion { get; }

    public string[] Parts { get; }

    /// <summary>The leading path components without wildcards ("" when the first component has one).</summary>
    public string LiteralPrefix { get; }

    public bool Match(string path) => _type switch
    {
        MatchType.Exact => path == Cleaned,
        MatchType.Prefix => path.StartsWith(Cleaned[..^2], StringComparison.Ordinal),
        MatchType.Suffix => path.EndsWith(Cleaned[2..].TrimStart('/'), StringComparison.Ordinal),
        _ => _regex!.IsMatch(path),
    };

    private string ComputeLiteralPrefix()
    {
        var literal = new List<string>();
        foreach (string part in Parts)
        {
            if (part.AsSpan().IndexOfAny("*?[\\") >= 0) { break; }
            literal.Add(part);
        }
        return string.Join('/', literal);
    }
}
