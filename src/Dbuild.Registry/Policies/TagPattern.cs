using System.Text.RegularExpressions;

namespace Dbuild.Registry.Policies;

/// <summary>
/// A tag pattern of <c>policies.*</c>: a glob (<c>*</c> any run of characters, <c>?</c> one character, the rest
/// literal: <c>v*</c>, <c>release-?</c>) or, when it starts with <c>^</c>, a regular expression (<c>^v[0-9]+\.[0-9]+$</c>).
/// Globs match the whole tag. Regular expressions run non-backtracking, so no pattern can stall a request.
/// </summary>
internal sealed class TagPattern
{
    private readonly Regex _regex;

    private TagPattern(string text, Regex regex) => (Text, _regex) = (text, regex);

    /// <summary>The pattern as written.</summary>
    public string Text { get; }

    public static bool TryCompile(string text, out TagPattern? pattern, out string error)
    {
        pattern = null;
        error = "";
        if (string.IsNullOrEmpty(text)) { error = "the tag pattern is empty"; return false; }
        string expression = text.StartsWith('^') ? text : "^" + Regex.Escape(text).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$";
        try
        {
            pattern = new TagPattern(text, new Regex(expression, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking));
            return true;
        }
        catch (ArgumentException ex)
        {
            error = $"'{text}' is not a valid regular expression: {ex.Message}";
            return false;
        }
    }

    public bool IsMatch(string tag) => _regex.IsMatch(tag);

    public override string ToString() => Text;
}
