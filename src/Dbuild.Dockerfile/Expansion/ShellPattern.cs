using System.Text;
using System.Text.RegularExpressions;

namespace Dbuild.Dockerfile;

/// <summary>Shell glob patterns of <c>${v#p}</c>, <c>${v%p}</c> and <c>${v/p/r}</c> as regular expressions.</summary>
internal static class ShellPattern
{
    public static Regex ToRegex(string pattern, bool greedy, bool anchored)
    {
        var sb = new StringBuilder(pattern.Length + 4);
        if (anchored) { sb.Append('^'); }
        string star = greedy ? ".*" : ".*?";
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            switch (c)
            {
                case '*': sb.Append(star); continue;
                case '?': sb.Append('.'); continue;
                case '\\':
                    if (i + 1 < pattern.Length && pattern[i + 1] == '}') { continue; }
                    if (i + 1 >= pattern.Length || pattern[i + 1] is not ('*' or '?' or '\\'))
                    {
                        string what = i + 1 < pattern.Length ? pattern[i + 1].ToString() : "";
                        throw new WordExpansionException($"invalid pattern ({pattern}) in substitution: invalid escape '\\{what}'");
                    }
                    sb.Append('\\').Append(pattern[++i]);
                    continue;
                case '[' or ']' or '{' or '}' or '.' or '+' or '(' or ')' or '|' or '^' or '$':
                    sb.Append('\\').Append(c);
                    continue;
                case '#' or ' ':
                    sb.Append('\\').Append(c);
                    continue;
            }
            sb.Append(c);
        }
        return new Regex(sb.ToString(), RegexOptions.CultureInvariant);
    }

    /// <summary>Reverses a pattern but keeps each escape pair in order.</summary>
    public static string ReversePattern(string pattern)
    {
        char[] output = new char[pattern.Length];
        int last = pattern.Length - 1;
        for (int i = 0; i <= last;)
        {
            int target = last - i;
            if (pattern[i] == '\\')
            {
                if (i == last)
                {
                    output[target] = pattern[i];
                    break;
                }
                output[target - 1] = pattern[i];
                output[target] = pattern[i + 1];
                i += 2;
            }
            else
            {
                output[target] = pattern[i];
                i++;
            }
        }
        return new string(output);
    }
}
