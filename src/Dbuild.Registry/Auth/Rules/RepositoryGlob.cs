using System.Buffers;

namespace Dbuild.Registry.Auth.Rules;

/// <summary>
/// A repository-name pattern of the rules file, compiled once: <c>*</c> matches within one path component, a whole
/// <c>**</c> component matches across components (at the end one or more: <c>alice/**</c> is alice/x and alice/x/y, not
/// alice; elsewhere zero or more: <c>**/base</c> is base and team/base), <c>${account}</c> is the signed-in account
/// (never anonymous), everything else is literal. Matching walks the name without allocating.
/// </summary>
internal sealed class RepositoryGlob
{
    private const string AccountVariable = "${account}";
    // Inside a compiled component: stand-ins for '*' and ${account}; neither can occur in a repository name.
    private const char Star = '\u0001';
    private const char Account = '\u0002';
    private static readonly SearchValues<char> NameChars = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789._-");
    private static readonly SearchValues<char> Wildcards = SearchValues.Create([Star, Account]);

    // Each component's pattern, or null for a ** component.
    private readonly string?[] _components;

    private RepositoryGlob(string text, string?[] components, bool usesAccount) => (Text, _components, UsesAccount) = (text, components, usesAccount);

    /// <summary>The pattern as written in the file.</summary>
    public string Text { get; }

    /// <summary>Whether the pattern names <c>${account}</c>, so it never matches an anonymous client.</summary>
    public bool UsesAccount { get; }

    /// <summary>Compiles <paramref name="text"/>; on failure <paramref name="error"/> says what is wrong with it.</summary>
    public static bool TryCompile(string text, out RepositoryGlob? glob, out string error)
    {
        glob = null;
        error = "";
        if (text.Length == 0) { error = "the repository pattern is empty"; return false; }
        string[] parts = text.Split('/');
        var components = new string?[parts.Length];
        bool usesAccount = false;
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i];
            if (part == "**")
            {
                if (i > 0 && components[i - 1] is null) { error = $"'{text}': '**/**' says no more than '**'"; return false; }
                continue;
            }
            if (!TryCompileComponent(part, out string? compiled, out error)) { error = $"'{text}': {error}"; return false; }
            components[i] = compiled;
            usesAccount |= compiled.Contains(Account, StringComparison.Ordinal);
        }
        glob = new RepositoryGlob(text, components, usesAccount);
        return true;
    }

    private static bool TryCompileComponent(string part, out string compiled, out string error)
    {
        compiled = "";
        error = "";
        if (part.Length == 0) { error = "empty path component (a leading, trailing or doubled '/')"; return false; }
        var builder = new System.Text.StringBuilder(part.Length);
        for (int i = 0; i < part.Length; i++)
        {
            char c = part[i];
            if (c == '*')
            {
                if (i + 1 < part.Length && part[i + 1] == '*') { error = "'**' must be a whole path component, as in 'team/**'"; return false; }
                builder.Append(Star);
            }
            else if (c == '$')
            {
                if (string.CompareOrdinal(part, i, AccountVariable, 0, AccountVariable.Length) != 0)
                {
                    error = "the only variable is ${account}";
                    return false;
                }
                builder.Append(Account);
                i += AccountVariable.Length - 1;
            }
            else if (NameChars.Contains(c)) { builder.Append(c); }
            else if (char.IsAsciiLetterUpper(c)) { error = "repository names are lower case"; return false; }
            else { error = $"'{c}' cannot occur in a repository name (a-z, 0-9, '.', '_', '-', '/'; patterns add '*', '**' and ${{account}})"; return false; }
        }
        compiled = builder.ToString();
        return true;
    }

    /// <summary>Whether <paramref name="repository"/> matches, with <c>${account}</c> standing for <paramref name="account"/>.</summary>
    public bool IsMatch(string repository, string? account)
    {
        if (UsesAccount && string.IsNullOrEmpty(account)) { return false; }
        return MatchFrom(0, repository, account ?? "");
    }

    // rest is what is left of the name, starting at a component; empty when every component is used up.
    private bool MatchFrom(int index, ReadOnlySpan<char> rest, string account)
    {
        if (index == _components.Length) { return rest.IsEmpty; }
        string? pattern = _components[index];
        if (pattern is null)
        {
            if (index == _components.Length - 1) { return !rest.IsEmpty; } // trailing **: one or more components
            while (true)
            {
                if (MatchFrom(index + 1, rest, account)) { return true; }
                int slash = rest.IndexOf('/');
                if (slash < 0) { return false; } // the next pattern component cannot match nothing
                rest = rest[(slash + 1)..];
            }
        }
        if (rest.IsEmpty) { return false; }
        int end = rest.IndexOf('/');
        if (end == rest.Length - 1) { return false; } // a trailing '/' is no repository name
        ReadOnlySpan<char> component = end < 0 ? rest : rest[..end];
        ReadOnlySpan<char> next = end < 0 ? [] : rest[(end + 1)..];
        return MatchComponent(pattern, component, account) && MatchFrom(index + 1, next, account);
    }

    // Wildcard matching within one component: the pieces between stars are fixed strings (${account} is known), so the
    // classic greedy walk that falls back to the last star is exact and linear enough for names of at most 255 characters.
    private static bool MatchComponent(string pattern, ReadOnlySpan<char> text, string account)
    {
        if (pattern.AsSpan().IndexOfAny(Wildcards) < 0) { return text.SequenceEqual(pattern); }
        int p = 0, t = 0, starP = -1, starT = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == Account && text[t..].StartsWith(account, StringComparison.Ordinal))
            {
                p++;
                t += account.Length;
            }
            else if (p < pattern.Length && pattern[p] != Star && pattern[p] != Account && pattern[p] == text[t])
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == Star)
            {
                starP = p++;
                starT = t;
            }
            else if (starP >= 0)
            {
                p = starP + 1;
                t = ++starT;
            }
            else { return false; }
        }
        while (p < pattern.Length && pattern[p] == Star) { p++; }
        return p == pattern.Length;
    }

    public override string ToString() => Text;
}
