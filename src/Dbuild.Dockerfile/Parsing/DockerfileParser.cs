using System.Text;

namespace Dbuild.Dockerfile;

/// <summary>
/// Reads a Dockerfile into BuildKit's AST (frontend/dockerfile/parser): directives, comments, continuation lines,
/// heredocs, JSON and shell forms, leading flags. The result dumps byte-identically to BuildKit's parser.
/// </summary>
public static partial class DockerfileParser
{
    /// <summary>BuildKit's limit on one physical line, in bytes.</summary>
    public const int MaxLineBytes = 65535;

    /// <summary>Parses the file at <paramref name="path"/>; errors name it by its file name.</summary>
    public static ParsedDockerfile ParseFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(File.ReadAllBytes(path), Path.GetFileName(path));
    }

    /// <summary>Parses UTF-8 bytes.</summary>
    public static ParsedDockerfile Parse(ReadOnlySpan<byte> utf8, string fileName = "Dockerfile") =>
        Parse(Encoding.UTF8.GetString(utf8), fileName);

    /// <summary>Parses a stream of UTF-8 text.</summary>
    public static ParsedDockerfile Parse(Stream stream, string fileName = "Dockerfile")
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new StreamReader(stream, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: false, leaveOpen: true);
        return Parse(reader.ReadToEnd(), fileName);
    }

    /// <summary>Parses Dockerfile text.</summary>
    /// <exception cref="DockerfileSyntaxException">The file cannot be parsed.</exception>
    public static ParsedDockerfile Parse(string text, string fileName = "Dockerfile")
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fileName);
        var state = new ParserState(text, fileName);
        return state.Run();
    }

    internal static string[] SplitSourceLines(string text)
    {
        var lines = new List<string>();
        int start = 0;
        while (start < text.Length)
        {
            int nl = text.IndexOf('\n', start);
            int end = nl < 0 ? text.Length : nl + 1;
            lines.Add(TrimNewline(text[start..end]));
            start = end;
        }
        if (lines.Count > 0 && lines[0].Length > 0 && lines[0][0] == '\uFEFF') { lines[0] = lines[0][1..]; }
        return [.. lines];
    }

    internal static string TrimNewline(string s)
    {
        int end = s.Length;
        while (end > 0 && s[end - 1] is '\r' or '\n') { end--; }
        return end == s.Length ? s : s[..end];
    }

    internal static bool IsComment(string rawLine)
    {
        for (int i = 0; i < rawLine.Length; i++)
        {
            char c = rawLine[i];
            if (GoText.IsSpace(c)) { continue; }
            return c == '#';
        }
        return false;
    }

    private static bool IsBlank(string line)
    {
        foreach (char c in line)
        {
            if (!GoText.IsSpace(c)) { return false; }
        }
        return true;
    }

    private sealed class ParserState(string text, string fileName)
    {
        private readonly Directives _directives = new();
        private readonly List<ParseWarning> _warnings = [];
        private int _offset;
        private int _currentLine;

        /// <summary>bufio.Scanner with BuildKit's scanLines: each token keeps its '\n'.</summary>
        private bool Scan(out string token)
        {
            if (_offset >= text.Length)
            {
                token = "";
                return false;
            }
            int nl = text.IndexOf('\n', _offset);
            int end = nl < 0 ? text.Length : nl + 1;
            int length = end - _offset;
            // bufio.MaxScanTokenSize: a token (with its newline) may hold 65,536 bytes, a final unterminated one 65,535.
            if (length * 3 > MaxLineBytes)
            {
                int bytes = Encoding.UTF8.GetByteCount(text.AsSpan(_offset, length));
                if (nl < 0 ? bytes > MaxLineBytes : bytes > MaxLineBytes + 1)
                {
                    throw new DockerfileSyntaxException(fileName, _currentLine + 1, 0, $"dockerfile line greater than max allowed size of {MaxLineBytes}");
                }
            }
            token = text.Substring(_offset, length);
            _offset = end;
            return true;
        }

        private string ProcessLine(string token, bool stripLeftWhitespace)
        {
            string line = TrimNewline(token);
            if (stripLeftWhitespace) { line = GoText.TrimLeftSpace(line); }
            if (_directives.Active) { PossibleParserDirective(line); }
            return IsComment(line) ? "" : line;
        }

        private void PossibleParserDirective(string line)
        {
            try
            {
                _directives.ParseLine(line, _currentLine + 1);
            }
            catch (FormatException ex)
            {
                throw new DockerfileSyntaxException(fileName, _currentLine + 1, 1, ex.Message, line);
            }
        }

        public ParsedDockerfile Run()
        {
            var root = new Node { StartLine = -1 };
            var children = new List<Node>();
            List<string> comments = [];
            while (Scan(out string raw))
            {
                if (_currentLine == 0 && raw.Length > 0 && raw[0] == '\uFEFF') { raw = raw[1..]; }
                if (IsComment(raw))
                {
                    string comment = GoText.TrimSpace(raw[1..]); // as BuildKit: an indented comment keeps its "#"
                    if (comment.Length == 0) { comments = []; } else { comments.Add(comment); }
                }
                string processed = ProcessLine(raw, stripLeftWhitespace: true);
                _currentLine++;
                int startLine = _currentLine;
                string firstRaw = TrimNewline(raw);
                (string line, bool isEndOfLine) = TrimContinuation(processed);
                if (isEndOfLine && line.Length == 0)
                {
                    if (!IsComment(raw)) { comments = []; }
                    continue;
                }
                bool hasEmptyContinuation = false;
                StringBuilder? joined = null;
                while (!isEndOfLine && Scan(out string next))
                {
                    string processedNext = ProcessLine(next, stripLeftWhitespace: false);
                    _currentLine++;
                    if (IsComment(next)) { continue; }
                    if (IsBlank(processedNext))
                    {
                        hasEmptyContinuation = true;
                        continue;
                    }
                    (string continuation, isEndOfLine) = TrimContinuation(processedNext);
                    joined ??= new StringBuilder(line);
                    joined.Append(continuation);
                }
                if (joined is not null) { line = joined.ToString(); }
                if (hasEmptyContinuation)
                {
                    _warnings.Add(new ParseWarning(_currentLine, "Empty continuation line found in: " + line));
                }
                int column = 1 + (firstRaw.Length - GoText.TrimLeftSpace(firstRaw).Length);
                Node child;
                try
                {
                    child = LineParsers.NewNodeFromLine(line, _directives.EscapeToken, comments);
                }
                catch (FormatException ex)
                {
                    throw new DockerfileSyntaxException(fileName, startLine, column, ex.Message, firstRaw);
                }
                if (line.Contains("<<", StringComparison.Ordinal) && child.CanContainHeredoc())
                {
                    List<Heredoc> heredocs;
                    try
                    {
                        heredocs = Heredocs.FromLine(line);
                    }
                    catch (FormatException ex)
                    {
                        throw new DockerfileSyntaxException(fileName, startLine, column, ex.Message, firstRaw);
                    }
                    var complete = new List<Heredoc>(heredocs.Count);
                    foreach (Heredoc heredoc in heredocs)
                    {
                        bool terminated = false;
                        var content = new StringBuilder();
                        while (Scan(out string body))
                        {
                            _currentLine++;
                            string possibleTerminator = TrimNewline(body);
                            if (heredoc.Chomp) { possibleTerminator = possibleTerminator.TrimStart('\t'); }
                            if (possibleTerminator == heredoc.Name)
                            {
                                terminated = true;
                                break;
                            }
                            content.Append(body);
                        }
                        if (!terminated)
                        {
                            throw new DockerfileSyntaxException(fileName, startLine, column, "unterminated heredoc", firstRaw);
                        }
                        complete.Add(heredoc with { Content = content.ToString() });
                    }
                    child.Heredocs = complete;
                }
                child.StartLine = startLine;
                child.EndLine = _currentLine;
                child.Column = column;
                if (root.StartLine < 0) { root.StartLine = startLine; }
                root.EndLine = _currentLine;
                children.Add(child);
                comments = [];
            }
            root.Children = children;
            if (root.StartLine < 0)
            {
                throw new DockerfileSyntaxException(fileName, _currentLine, 0, "file with no instructions");
            }
            return new ParsedDockerfile(fileName, root, _directives.All, _warnings, _directives.EscapeToken, text);
        }

        private (string Line, bool IsEndOfLine) TrimContinuation(string line)
        {
            int i = line.Length - 1;
            while (i >= 0 && line[i] is ' ' or '\t') { i--; }
            // An escape token continues the line unless it is itself escaped: "a\\" at the end is two literal backslashes.
            if (i >= 0 && line[i] == _directives.EscapeToken && (i == 0 || line[i - 1] != _directives.EscapeToken)) { return (line[..i], false); }
            return (line, true);
        }
    }
}
