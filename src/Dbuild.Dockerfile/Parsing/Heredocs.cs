using System.Globalization;
using System.Text.RegularExpressions;

namespace Dbuild.Dockerfile;

/// <summary>Finds heredoc markers in an instruction line (BuildKit's heredocsFromLine and ParseHeredoc).</summary>
internal static partial class Heredocs
{
    private static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();
    private static readonly ShellLexer LineLexer = new('\\') { RawQuotes = true, RawEscapes = true };
    private static readonly ShellLexer WordLexer = new('\\') { SkipUnsetEnv = true };
    private static readonly ShellLexer RawWordLexer = new('\\') { SkipUnsetEnv = true, RawQuotes = true };

    [GeneratedRegex(@"^([0-9]*)<<(-?)([^<]*)\z", RegexOptions.CultureInvariant)]
    private static partial Regex HeredocRegex();

    public static List<Heredoc> FromLine(string line)
    {
        IReadOnlyList<string> words;
        try
        {
            words = LineLexer.ProcessWords(line, Empty);
        }
        catch (WordExpansionException)
        {
            // BuildKit ignores the error and uses the words found so far, which is none.
            return [];
        }
        var docs = new List<Heredoc>();
        foreach (string word in words)
        {
            if (Parse(word) is { } heredoc) { docs.Add(heredoc); }
        }
        return docs;
    }

    /// <summary>Parses one word such as <c>&lt;&lt;-"EOF"</c>; null when it is not a heredoc marker.</summary>
    public static Heredoc? Parse(string word)
    {
        Match match = HeredocRegex().Match(word);
        if (!match.Success) { return null; }
        string rest = match.Groups[3].Value;
        if (rest.Length == 0) { return null; }
        _ = int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int fd);
        bool chomp = match.Groups[2].Value == "-";
        IReadOnlyList<string> words = WordLexer.ProcessWords(rest, Empty);
        if (words.Count != 1) { return null; }
        IReadOnlyList<string> raw = RawWordLexer.ProcessWords(rest, Empty);
        if (raw.Count != words.Count)
        {
            throw new FormatException($"internal lexing of heredoc produced inconsistent results: {rest}");
        }
        string name = words[0];
        bool expand = CountQuotes(name) == CountQuotes(raw[0]);
        return new Heredoc(name, fd, expand, chomp, "");
    }

    /// <summary>The heredoc of <paramref name="heredocs"/> that <paramref name="word"/> opens, or null.</summary>
    public static Heredoc? Find(IReadOnlyList<Heredoc> heredocs, string word)
    {
        if (heredocs.Count == 0 || !word.Contains("<<", StringComparison.Ordinal)) { return null; }
        Heredoc? parsed;
        try { parsed = Parse(word); }
        catch (FormatException) { return null; }
        return parsed is null ? null : heredocs.FirstOrDefault(h => h.Name == parsed.Name && h.FileDescriptor == parsed.FileDescriptor);
    }

    private static int CountQuotes(string s)
    {
        int n = 0;
        foreach (char c in s)
        {
            if (c is '\'' or '"') { n++; }
        }
        return n;
    }
}
