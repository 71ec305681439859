using System.Text;
using System.Text.RegularExpressions;

namespace Dbuild.Dockerfile;

/// <summary>
/// BuildKit's shell-word expander (frontend/dockerfile/shell): quotes, escapes and <c>$v</c>, <c>${v}</c>,
/// <c>${v:-x}</c>, <c>${v-x}</c>, <c>${v:+x}</c>, <c>${v+x}</c>, <c>${v:?m}</c>, <c>${v?m}</c>, <c>${v#p}</c>,
/// <c>${v##p}</c>, <c>${v%p}</c>, <c>${v%%p}</c>, <c>${v/p/r}</c>, <c>${v//p/r}</c>. It does not run commands.
/// </summary>
public sealed class ShellLexer
{
    /// <summary>Creates a lexer for the Dockerfile's escape token (<c>\</c> or <c>`</c>).</summary>
    public ShellLexer(char escapeToken = '\\') => EscapeToken = escapeToken;

    /// <summary>The escape character.</summary>
    public char EscapeToken { get; }

    /// <summary>Keep quote characters in the output.</summary>
    public bool RawQuotes { get; init; }

    /// <summary>Keep escape characters in the output.</summary>
    public bool RawEscapes { get; init; }

    /// <summary>Leave unset variables as written (<c>$x</c>, <c>${x}</c>) instead of expanding them to "".</summary>
    public bool SkipUnsetEnv { get; init; }

    /// <summary>Treat quotes as ordinary characters.</summary>
    public bool SkipProcessQuotes { get; init; }

    /// <summary>Expands <paramref name="word"/> to one string (BuildKit's ProcessWord).</summary>
    public string ProcessWord(string word, IReadOnlyDictionary<string, string> environment) =>
        Process(word, environment).Result;

    /// <summary>Expands <paramref name="word"/> and splits it into words (BuildKit's ProcessWords).</summary>
    public IReadOnlyList<string> ProcessWords(string word, IReadOnlyDictionary<string, string> environment) =>
        Process(word, environment).Words;

    /// <summary>Expands a word and reports which variables were found and which were not.</summary>
    public WordExpansion Process(string word, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(word);
        ArgumentNullException.ThrowIfNull(environment);
        var state = new ShellWord(this, word, environment);
        try
        {
            (string result, List<string> words) = state.ProcessStopOn(-1, RawEscapes);
            return new WordExpansion(result, words, state.Matches, state.NonMatches);
        }
        catch (WordExpansionException ex)
        {
            throw new WordExpansionException($"failed to process {GoText.Quote(word)}: {ex.Message}");
        }
    }

    private sealed class ShellWord(ShellLexer lexer, string source, IReadOnlyDictionary<string, string> environment)
    {
        private const int Eof = -1;
        private readonly int[] _runes = ToRunes(source);
        private int _pos;
        private bool _rawEscapes = lexer.RawEscapes;

        public HashSet<string> Matches { get; } = new(StringComparer.Ordinal);
        public HashSet<string> NonMatches { get; } = new(StringComparer.Ordinal);

        private static int[] ToRunes(string s)
        {
            var list = new int[s.Length];
            int n = 0;
            for (int i = 0; i < s.Length; i++)
            {
                char c = s[i];
                if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                {
                    list[n++] = char.ConvertToUtf32(c, s[i + 1]);
                    i++;
                }
                else
                {
                    list[n++] = char.IsSurrogate(c) ? 0xFFFD : c;
                }
            }
            return list.AsSpan(0, n).ToArray();
        }

        private int Peek() => _pos < _runes.Length ? _runes[_pos] : Eof;

        private int Next() => _pos < _runes.Length ? _runes[_pos++] : Eof;

        private static void AppendRune(StringBuilder sb, int rune)
        {
            if (rune < 0x10000) { sb.Append((char)rune); } else { sb.Append(char.ConvertFromUtf32(rune)); }
        }

        public (string Result, List<string> Words) ProcessStopOn(int stopChar, bool rawEscapes)
        {
            var result = new StringBuilder();
            var words = new WordsBuilder();
            bool saved = _rawEscapes;
            _rawEscapes = rawEscapes;
            try
            {
                while (Peek() != Eof)
                {
                    int ch = Peek();
                    if (stopChar != Eof && ch == stopChar)
                    {
                        Next();
                        return (result.ToString(), words.GetWords());
                    }
                    if (ch == '$')
                    {
                        string tmp = ProcessDollar();
                        result.Append(tmp);
                        words.AddString(tmp);
                    }
                    else if (!lexer.SkipProcessQuotes && ch == '\'')
                    {
                        string tmp = ProcessSingleQuote();
                        result.Append(tmp);
                        words.AddRawString(tmp);
                    }
                    else if (!lexer.SkipProcessQuotes && ch == '"')
                    {
                        string tmp = ProcessDoubleQuote();
                        result.Append(tmp);
                        words.AddRawString(tmp);
                    }
                    else
                    {
                        ch = Next();
                        if (ch == lexer.EscapeToken)
                        {
                            if (_rawEscapes)
                            {
                                words.AddRawChar(ch);
                                AppendRune(result, ch);
                            }
                            ch = Next();
                            if (ch == Eof) { break; }
                            words.AddRawChar(ch);
                        }
                        else
                        {
                            words.AddChar(ch);
                        }
                        AppendRune(result, ch);
                    }
                }
                if (stopChar != Eof)
                {
                    throw new WordExpansionException($"unexpected end of statement while looking for matching {char.ConvertFromUtf32(stopChar)}");
                }
                return (result.ToString(), words.GetWords());
            }
            finally
            {
                _rawEscapes = saved;
            }
        }

        private string ProcessSingleQuote()
        {
            var result = new StringBuilder();
            int ch = Next();
            if (lexer.RawQuotes) { AppendRune(result, ch); }
            while (true)
            {
                ch = Next();
                if (ch == Eof) { throw new WordExpansionException("unexpected end of statement while looking for matching single-quote"); }
                if (ch == '\'')
                {
                    if (lexer.RawQuotes) { AppendRune(result, ch); }
                    return result.ToString();
                }
                AppendRune(result, ch);
            }
        }

        private string ProcessDoubleQuote()
        {
            var result = new StringBuilder();
            int ch = Next();
            if (lexer.RawQuotes) { AppendRune(result, ch); }
            while (true)
            {
                int peek = Peek();
                if (peek == Eof) { throw new WordExpansionException("unexpected end of statement while looking for matching double-quote"); }
                if (peek == '"')
                {
                    ch = Next();
                    if (lexer.RawQuotes) { AppendRune(result, ch); }
                    return result.ToString();
                }
                if (peek == '$')
                {
                    result.Append(ProcessDollar());
                    continue;
                }
                ch = Next();
                if (ch == lexer.EscapeToken)
                {
                    if (_rawEscapes) { AppendRune(result, ch); }
                    int next = Peek();
                    if (next == Eof) { continue; }
                    if (next == '"' || next == '$' || next == lexer.EscapeToken) { ch = Next(); }
                }
                AppendRune(result, ch);
            }
        }

        private string ProcessDollar()
        {
            // Nesting recurses; Go's stacks grow, ours do not, so a hostile ${a:-${a:-…}} must fail cleanly.
            if (!System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
            {
                throw new WordExpansionException("syntax error: substitutions nested too deeply");
            }
            Next();
            if (Peek() != '{')
            {
                string name = ProcessName();
                if (name.Length == 0) { return "$"; }
                (string value, bool found) = GetEnv(name);
                return !found && lexer.SkipUnsetEnv ? "$" + name : value;
            }
            Next();
            switch (Peek())
            {
                case Eof: throw new WordExpansionException("syntax error: missing '}'");
                case '{' or '}' or ':': throw new WordExpansionException("syntax error: bad substitution");
            }
            string varName = ProcessName();
            int ch = Next();
            string chs = ch == Eof ? "" : char.ConvertFromUtf32(ch);
            bool nullIsUnset = false;
            switch (ch)
            {
                case '}':
                    {
                        (string value, bool set) = GetEnv(varName);
                        return !set && lexer.SkipUnsetEnv ? "${" + varName + "}" : value;
                    }
                case ':' or '+' or '-' or '?' or '#' or '%':
                    {
                        if (ch == ':')
                        {
                            nullIsUnset = true;
                            ch = Next();
                            chs += ch == Eof ? "" : char.ConvertFromUtf32(ch);
                        }
                        bool raw = ch == '#' || ch == '%';
                        if (nullIsUnset && raw) { throw new WordExpansionException($"unsupported modifier ({chs}) in substitution"); }
                        string word;
                        try
                        {
                            word = ProcessStopOn('}', raw).Result;
                        }
                        catch (WordExpansionException) when (Peek() == Eof)
                        {
                            throw new WordExpansionException("syntax error: missing '}'");
                        }
                        (string value, bool set) = GetEnv(varName);
                        if (lexer.SkipUnsetEnv && !set) { return "${" + varName + chs + word + "}"; }
                        switch (ch)
                        {
                            case '-': return !set || (nullIsUnset && value.Length == 0) ? word : value;
                            case '+': return !set || (nullIsUnset && value.Length == 0) ? "" : word;
                            case '?':
                                if (!set) { throw new WordExpansionException($"{varName}: {(word.Length > 0 ? word : "is not allowed to be unset")}"); }
                                if (nullIsUnset && value.Length == 0) { throw new WordExpansionException($"{varName}: {(word.Length > 0 ? word : "is not allowed to be empty")}"); }
                                return value;
                            case '%' or '#':
                                bool greedy = false;
                                if (word.Length > 0 && word[0] == ch)
                                {
                                    greedy = true;
                                    word = word[1..];
                                }
                                return ch == '%' ? TrimSuffix(word, value, greedy) : TrimPrefix(word, value, greedy);
                            default:
                                throw new WordExpansionException($"unsupported modifier ({chs}) in substitution");
                        }
                    }
                case '/':
                    {
                        bool replaceAll = Peek() == '/';
                        if (replaceAll) { Next(); }
                        string pattern, replacement;
                        try { pattern = ProcessStopOn('/', true).Result; }
                        catch (WordExpansionException) when (Peek() == Eof) { throw new WordExpansionException("syntax error: missing '/' in ${}"); }
                        try { replacement = ProcessStopOn('}', true).Result; }
                        catch (WordExpansionException) when (Peek() == Eof) { throw new WordExpansionException("syntax error: missing '}'"); }
                        (string value, bool set) = GetEnv(varName);
                        if (lexer.SkipUnsetEnv && !set) { return "${" + varName + "/" + pattern + "/" + replacement + "}"; }
                        Regex re = ShellPattern.ToRegex(pattern, greedy: true, anchored: false);
                        if (replaceAll) { return re.Replace(value, replacement.Replace("$", "$$", StringComparison.Ordinal)); }
                        Match m = re.Match(value);
                        return m.Success ? string.Concat(value.AsSpan(0, m.Index), replacement, value.AsSpan(m.Index + m.Length)) : value;
                    }
                default:
                    throw new WordExpansionException($"unsupported modifier ({chs}) in substitution");
            }
        }

        private static string TrimPrefix(string pattern, string value, bool greedy)
        {
            Match m = ShellPattern.ToRegex(pattern, greedy, anchored: true).Match(value);
            return m.Success ? value[(m.Index + m.Length)..] : value;
        }

        private static string TrimSuffix(string pattern, string value, bool greedy) =>
            Reverse(TrimPrefix(ShellPattern.ReversePattern(pattern), Reverse(value), greedy));

        private static string Reverse(string s)
        {
            int[] runes = ToRunes(s);
            Array.Reverse(runes);
            var sb = new StringBuilder(s.Length);
            foreach (int r in runes) { AppendRune(sb, r); }
            return sb.ToString();
        }

        private string ProcessName()
        {
            var name = new StringBuilder();
            while (Peek() != Eof)
            {
                int ch = Peek();
                if (name.Length == 0 && IsDigit(ch))
                {
                    while (Peek() != Eof && IsDigit(Peek())) { AppendRune(name, Next()); }
                    return name.ToString();
                }
                if (name.Length == 0 && ch is '@' or '*' or '#' or '?' or '-' or '$' or '!' or '0')
                {
                    return char.ConvertFromUtf32(Next());
                }
                if (!IsLetter(ch) && !IsDigit(ch) && ch != '_') { break; }
                AppendRune(name, Next());
            }
            return name.ToString();
        }

        private static bool IsDigit(int rune) => rune < 0x10000 ? char.IsDigit((char)rune) : Rune.IsDigit(new Rune(rune));

        private static bool IsLetter(int rune) => rune < 0x10000 ? char.IsLetter((char)rune) : Rune.IsLetter(new Rune(rune));

        private (string Value, bool Found) GetEnv(string name)
        {
            if (environment.TryGetValue(name, out string? value))
            {
                Matches.Add(name);
                return (value, true);
            }
            NonMatches.Add(name);
            return ("", false);
        }
    }

    private sealed class WordsBuilder
    {
        private readonly StringBuilder _word = new();
        private readonly List<string> _words = [];
        private bool _inWord;

        public void AddChar(int ch)
        {
            if (GoText.IsSpace(ch) && _inWord)
            {
                if (_word.Length != 0)
                {
                    _words.Add(_word.ToString());
                    _word.Clear();
                    _inWord = false;
                }
            }
            else if (!GoText.IsSpace(ch))
            {
                AddRawChar(ch);
            }
        }

        public void AddRawChar(int ch)
        {
            if (ch < 0x10000) { _word.Append((char)ch); } else { _word.Append(char.ConvertFromUtf32(ch)); }
            _inWord = true;
        }

        public void AddString(string s)
        {
            for (int i = 0; i < s.Length; i++)
            {
                char c = s[i];
                if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                {
                    AddChar(char.ConvertToUtf32(c, s[i + 1]));
                    i++;
                }
                else
                {
                    AddChar(c);
                }
            }
        }

        public void AddRawString(string s)
        {
            _word.Append(s);
            _inWord = true;
        }

        public List<string> GetWords()
        {
            if (_word.Length > 0)
            {
                _words.Add(_word.ToString());
                _word.Clear();
                _inWord = false;
            }
            return _words;
        }
    }
}
