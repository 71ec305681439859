namespace Dbuild.Cli.Commands;

/// <summary>
/// Go's <c>path.Match</c>, which docker's <c>reference</c> filter matches names with: <c>*</c> is any run of
/// characters but <c>/</c>, <c>?</c> one of them, <c>[a-z]</c> and <c>[^…]</c> classes, <c>\</c> escapes.
/// </summary>
internal static class GoPathMatch
{
    /// <summary>True when <paramref name="name"/> matches; a malformed pattern is <c>syntax error in pattern</c>.</summary>
    public static bool IsMatch(string pattern, string name)
    {
        if (!IsValid(pattern)) { throw new FormatException("syntax error in pattern"); }
        return Match(pattern, 0, name, 0);
    }

    private static bool Match(string p, int pi, string s, int si)
    {
        while (pi < p.Length)
        {
            char c = p[pi];
            if (c == '*')
            {
                while (pi < p.Length && p[pi] == '*') { pi++; }
                for (int k = si; ; k++)
                {
                    if (Match(p, pi, s, k)) { return true; }
                    if (k >= s.Length || s[k] == '/') { return false; }
                }
            }
            if (si >= s.Length) { return false; }
            if (c == '?')
            {
                if (s[si] == '/') { return false; }
                pi++;
            }
            else if (c == '[')
            {
                (bool matched, int next) = Class(p, pi, s[si]);
                if (!matched) { return false; }
                pi = next;
            }
            else
            {
                if (c == '\\') { pi++; c = p[pi]; }
                if (s[si] != c) { return false; }
                pi++;
            }
            si++;
        }
        return si == s.Length;
    }

    /// <summary>Matches one character against the class starting at <paramref name="pi"/> (a <c>[</c>); returns the index after <c>]</c>.</summary>
    private static (bool Matched, int Next) Class(string p, int pi, char c)
    {
        pi++;
        bool negated = p[pi] == '^';
        if (negated) { pi++; }
        bool matched = false;
        while (p[pi] != ']')
        {
            char lo = p[pi] == '\\' ? p[++pi] : p[pi];
            pi++;
            char hi = lo;
            if (p[pi] == '-')
            {
                pi++;
                hi = p[pi] == '\\' ? p[++pi] : p[pi];
                pi++;
            }
            matched |= lo <= c && c <= hi;
        }
        return (matched != negated && c != '/', pi + 1);
    }

    /// <summary>False for a pattern Go's <c>path.Match</c> calls malformed (<c>ErrBadPattern</c>).</summary>
    public static bool IsValid(string p)
    {
        for (int i = 0; i < p.Length; i++)
        {
            if (p[i] == '\\') { if (++i >= p.Length) { return false; } continue; }
            if (p[i] != '[') { continue; }
            i++;
            if (i < p.Length && p[i] == '^') { i++; }
            int items = 0;
            while (true)
            {
                if (i >= p.Length) { return false; }
                if (p[i] == ']' && items > 0) { break; }
                if (p[i] is '-' or ']') { return false; }
                if (p[i] == '\\' && ++i >= p.Length) { return false; }
                char lo = p[i++];
                if (i < p.Length && p[i] == '-')
                {
                    if (++i >= p.Length || p[i] == ']') { return false; }
                    if (p[i] == '\\' && ++i >= p.Length) { return false; }
                    if (p[i++] < lo) { return false; }
                }
                items++;
            }
        }
        return true;
    }
}
