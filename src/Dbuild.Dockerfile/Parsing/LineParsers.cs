using System.Text;

namespace Dbuild.Dockerfile;

/// <summary>How each keyword's arguments become the argument chain (BuildKit's line_parsers.go).</summary>
internal static class LineParsers
{
    private delegate (Node? Next, bool IsJson) LineParser(string rest, char escapeToken);

    private static readonly Dictionary<string, LineParser> Dispatch = new(StringComparer.Ordinal)
    {
        ["add"] = ParseMaybeJsonToList,
        ["arg"] = ParseNameOrNameVal,
        ["cmd"] = ParseMaybeJson,
        ["copy"] = ParseMaybeJsonToList,
        ["entrypoint"] = ParseMaybeJson,
        ["env"] = (rest, escape) => (ParseNameVal(rest, "ENV", escape), false),
        ["expose"] = ParseStringsWhitespaceDelimited,
        ["from"] = ParseStringsWhitespaceDelimited,
        ["healthcheck"] = ParseHealthConfig,
        ["label"] = (rest, escape) => (ParseNameVal(rest, "LABEL", escape), false),
        ["maintainer"] = ParseString,
        ["onbuild"] = ParseSubCommand,
        ["run"] = ParseMaybeJson,
        ["shell"] = ParseMaybeJson,
        ["stopsignal"] = ParseString,
        ["user"] = ParseString,
        ["volume"] = ParseMaybeJsonToList,
        ["workdir"] = ParseString,
    };

    /// <summary>The instruction keywords BuildKit knows, lower case.</summary>
    public static IEnumerable<string> Keywords => Dispatch.Keys;

    public static Node NewNodeFromLine(string line, char escapeToken, IReadOnlyList<string>? comments)
    {
        (string cmd, List<string> flags, string args) = SplitCommand(line, escapeToken);
        string lower = cmd.ToLowerInvariant();
        (Node? next, bool isJson) = Dispatch.TryGetValue(lower, out LineParser? parser) ? parser(args, escapeToken) : (new Node(), false);
        return new Node
        {
            Value = lower,
            Keyword = cmd,
            Original = line,
            Flags = flags,
            Next = next,
            IsJson = isJson,
            PrevComment = comments is null || comments.Count == 0 ? [] : [.. comments],
        };
    }

    private static bool IsSplitSpace(char c) => c is '\t' or '\v' or '\f' or '\r' or ' ';

    /// <summary>Go's <c>reWhitespace.Split(s, -1)</c> with <c>[\t\v\f\r ]+</c>.</summary>
    private static List<string> SplitWhitespace(string s, int limit)
    {
        var parts = new List<string>();
        int start = 0;
        int i = 0;
        while (i < s.Length)
        {
            if (limit > 0 && parts.Count == limit - 1) { break; }
            if (IsSplitSpace(s[i]))
            {
                int j = i;
                while (j < s.Length && IsSplitSpace(s[j])) { j++; }
                parts.Add(s[start..i]);
                start = j;
                i = j;
                continue;
            }
            i++;
        }
        parts.Add(s[start..]);
        return parts;
    }

    private static (string Cmd, List<string> Flags, string Args) SplitCommand(string line, char escapeToken)
    {
        List<string> cmdline = SplitWhitespace(GoText.TrimSpace(line), 2);
        List<string> flags = [];
        string args = "";
        if (cmdline.Count == 2)
        {
            (args, flags) = ExtractBuilderFlags(cmdline[1], escapeToken);
        }
        return (cmdline[0], flags, GoText.TrimSpace(args));
    }

    /// <summary>
    /// BuildKit's extractBuilderFlags. It walks bytes, not runes: a non-ASCII byte inside a flag becomes the Latin-1
    /// character of that byte, and bytes 0x85 and 0xA0 count as blanks. Kept for byte-identical dumps.
    /// </summary>
    private static (string Remainder, List<string> Flags) ExtractBuilderFlags(string line, char escapeToken)
    {
        var words = new List<string>();
        int p = 0;
        while (p < line.Length && line[p] is '\t' or '\n' or '\v' or '\f' or '\r' or ' ') { p++; }
        if (p >= line.Length || line[p] != '-' || p + 1 >= line.Length || line[p + 1] != '-')
        {
            return (p == 0 ? line : line[p..], words);
        }
        byte[] bytes = Encoding.UTF8.GetBytes(line);
        const int InSpaces = 0, InWord = 1, InQuote = 2;
        int phase = InSpaces;
        var word = new StringBuilder();
        byte quote = 0;
        bool blankOk = false;
        byte ch = 0;
        for (int pos = 0; pos <= bytes.Length; pos++)
        {
            if (pos != bytes.Length) { ch = bytes[pos]; }
            if (phase == InSpaces)
            {
                if (pos == bytes.Length) { break; }
                if (GoText.IsSpace(ch)) { continue; }
                if (ch != '-' || pos + 1 == bytes.Length || bytes[pos + 1] != '-')
                {
                    return (Encoding.UTF8.GetString(bytes, pos, bytes.Length - pos), words);
                }
                phase = InWord;
            }
            if (phase is InWord or InQuote && pos == bytes.Length)
            {
                string w = word.ToString();
                if (w != "--" && (blankOk || w.Length > 0)) { words.Add(w); }
                break;
            }
            if (phase == InWord)
            {
                if (GoText.IsSpace(ch))
                {
                    phase = InSpaces;
                    string w = word.ToString();
                    if (w == "--") { return (Encoding.UTF8.GetString(bytes, pos, bytes.Length - pos), words); }
                    if (blankOk || w.Length > 0) { words.Add(w); }
                    word.Clear();
                    blankOk = false;
                    continue;
                }
                if (ch is (byte)'\'' or (byte)'"')
                {
                    quote = ch;
                    blankOk = true;
                    phase = InQuote;
                    continue;
                }
                if (ch == escapeToken)
                {
                    if (pos + 1 == bytes.Length) { continue; }
                    pos++;
                    ch = bytes[pos];
                }
                word.Append((char)ch);
                continue;
            }
            if (phase == InQuote)
            {
                if (ch == quote)
                {
                    phase = InWord;
                    continue;
                }
                if (ch == escapeToken)
                {
                    if (pos + 1 == bytes.Length)
                    {
                        phase = InWord;
                        continue;
                    }
                    pos++;
                    ch = bytes[pos];
                }
                word.Append((char)ch);
            }
        }
        return ("", words);
    }

    private static (Node?, bool) ParseSubCommand(string rest, char escapeToken)
    {
        if (rest.Length == 0) { return (null, false); }
        Node child = NewNodeFromLine(rest, escapeToken, null);
        return (new Node { Children = [child] }, false);
    }

    /// <summary>BuildKit's parseWords: splits on blanks, keeps quotes and escapes in the words.</summary>
    internal static List<string> ParseWords(string rest, char escapeToken)
    {
        const int InSpaces = 0, InWord = 1, InQuote = 2;
        var words = new List<string>();
        int phase = InSpaces;
        var word = new StringBuilder();
        char quote = '\0';
        bool blankOk = false;
        int ch = 0;
        int width = 0;
        for (int pos = 0; pos <= rest.Length; pos += width)
        {
            if (pos != rest.Length) { (ch, width) = Decode(rest, pos); }
            if (phase == InSpaces)
            {
                if (pos == rest.Length) { break; }
                if (GoText.IsSpace(ch)) { continue; }
                phase = InWord;
            }
            if (phase is InWord or InQuote && pos == rest.Length)
            {
                if (blankOk || word.Length > 0) { words.Add(word.ToString()); }
                break;
            }
            if (phase == InWord)
            {
                if (GoText.IsSpace(ch))
                {
                    phase = InSpaces;
                    if (blankOk || word.Length > 0) { words.Add(word.ToString()); }
                    word.Clear();
                    blankOk = false;
                    continue;
                }
                if (ch is '\'' or '"')
                {
                    quote = (char)ch;
                    blankOk = true;
                    phase = InQuote;
                }
                if (ch == escapeToken)
                {
                    if (pos + width == rest.Length) { continue; }
                    AppendRune(word, ch);
                    pos += width;
                    (ch, width) = Decode(rest, pos);
                }
                AppendRune(word, ch);
                continue;
            }
            if (phase == InQuote)
            {
                if (ch == quote) { phase = InWord; }
                if (ch == escapeToken && quote != '\'')
                {
                    if (pos + width == rest.Length)
                    {
                        phase = InWord;
                        continue;
                    }
                    pos += width;
                    AppendRune(word, ch);
                    (ch, width) = Decode(rest, pos);
                }
                AppendRune(word, ch);
            }
        }
        return words;
    }

    private static (int Rune, int Width) Decode(string s, int pos)
    {
        char c = s[pos];
        if (char.IsHighSurrogate(c) && pos + 1 < s.Length && char.IsLowSurrogate(s[pos + 1]))
        {
            return (char.ConvertToUtf32(c, s[pos + 1]), 2);
        }
        return (c, 1);
    }

    private static void AppendRune(StringBuilder sb, int rune)
    {
        if (rune < 0x10000) { sb.Append((char)rune); } else { sb.Append(char.ConvertFromUtf32(rune)); }
    }

    private static Node? ParseNameVal(string rest, string key, char escapeToken)
    {
        List<string> words = ParseWords(rest, escapeToken);
        if (words.Count == 0) { return null; }
        if (!words[0].Contains('=', StringComparison.Ordinal))
        {
            List<string> parts = SplitWhitespace(rest, 2);
            if (parts.Count < 2) { throw new FormatException($"{key} must have two arguments"); }
            return KeyValue(parts[0], parts[1], "");
        }
        Node? root = null;
        Node? last = null;
        foreach (string word in words)
        {
            int eq = word.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                throw new FormatException($"Syntax error - can't find = in {GoText.Quote(word)}. Must be of the form: name=value");
            }
            Node node = KeyValue(word[..eq], word[(eq + 1)..], "=");
            if (root is null) { root = node; } else { last!.Next = node; }
            last = node.Next!.Next;
        }
        return root;
    }

    private static Node KeyValue(string key, string value, string separator) =>
        new() { Value = key, Next = new Node { Value = value, Next = new Node { Value = separator } } };

    private static (Node?, bool) ParseNameOrNameVal(string rest, char escapeToken)
    {
        List<string> words = ParseWords(rest, escapeToken);
        return (Chain(words), false);
    }

    private static Node? Chain(List<string> values)
    {
        Node? root = null;
        Node? last = null;
        foreach (string value in values)
        {
            var node = new Node { Value = value };
            if (root is null) { root = node; } else { last!.Next = node; }
            last = node;
        }
        return root;
    }

    private static (Node?, bool) ParseStringsWhitespaceDelimited(string rest, char escapeToken)
    {
        if (rest.Length == 0) { return (null, false); }
        return (Chain(SplitWhitespace(rest, -1)), false);
    }

    private static (Node?, bool) ParseString(string rest, char escapeToken) =>
        rest.Length == 0 ? (null, false) : (new Node { Value = rest }, false);

    private static (GoJson.Outcome Outcome, Node? Node) ParseJson(string rest)
    {
        rest = GoText.TrimLeftSpace(rest);
        if (rest.Length == 0 || rest[0] != '[') { return (GoJson.Outcome.NotJson, null); }
        GoJson.Outcome outcome = GoJson.TryParseStringArray(rest, out List<string> values);
        return outcome == GoJson.Outcome.Ok ? (outcome, Chain(values)) : (outcome, null);
    }

    private const string NotStringArray = "when using JSON array syntax, arrays must be comprised of strings only";

    private static (Node?, bool) ParseMaybeJson(string rest, char escapeToken)
    {
        if (rest.Length == 0) { return (null, false); }
        (GoJson.Outcome outcome, Node? node) = ParseJson(rest);
        return outcome switch
        {
            GoJson.Outcome.Ok => (node, true),
            GoJson.Outcome.NotStringArray => throw new FormatException(NotStringArray),
            _ => (new Node { Value = rest }, false),
        };
    }

    private static (Node?, bool) ParseMaybeJsonToList(string rest, char escapeToken)
    {
        (GoJson.Outcome outcome, Node? node) = ParseJson(rest);
        return outcome switch
        {
            GoJson.Outcome.Ok => (node, true),
            GoJson.Outcome.NotStringArray => throw new FormatException(NotStringArray),
            _ => ParseStringsWhitespaceDelimited(rest, escapeToken),
        };
    }

    private static (Node?, bool) ParseHealthConfig(string rest, char escapeToken)
    {
        // Walks bytes like BuildKit; only ASCII blanks can match here because a multi-byte character's first byte never is one.
        int sep = 0;
        while (sep < rest.Length && !(rest[sep] < 0x80 && GoText.IsSpace(rest[sep]))) { sep++; }
        int next = sep;
        while (next < rest.Length && rest[next] < 0x80 && GoText.IsSpace(rest[next])) { next++; }
        if (sep == 0) { return (null, false); }
        string type = rest[..sep];
        (Node? cmd, bool isJson) = ParseMaybeJson(rest[next..], escapeToken);
        return (new Node { Value = type, Next = cmd }, isJson);
    }
}
