using System.Globalization;
using System.Text;

namespace Dbuild.Cli.Formatting;

internal enum TokenKind { Text, LeftDelim, RightDelim, Field, Variable, Dot, Identifier, Bool, Nil, String, Number, Pipe, LeftParen, RightParen, Declare, Assign, Comma, Space, Eof }

/// <summary>One token with its byte offset; for <see cref="TokenKind.String"/>, <see cref="Value"/> is the unquoted text.</summary>
internal readonly record struct TemplateToken(TokenKind Kind, int Pos, string Text, string? Value = null);

/// <summary>
/// Splits a template into text and action tokens as Go's <c>text/template</c> lexer does: <c>{{</c> <c>}}</c>, the trim
/// markers <c>{{- </c> and <c> -}}</c>, comments, fields, variables, constants and punctuation.
/// </summary>
internal sealed class TemplateLexer(string input)
{
    private readonly List<TemplateToken> _tokens = [];
    private int _pos;
    private int _parenDepth;

    public static IReadOnlyList<TemplateToken> Lex(string input) => new TemplateLexer(input).Run();

    private List<TemplateToken> Run()
    {
        while (_pos < input.Length)
        {
            int open = input.IndexOf("{{", _pos, StringComparison.Ordinal);
            int textEnd = open < 0 ? input.Length : open;
            bool trimLeft = open >= 0 && TrimMarkerAt(open + 2, before: false);
            string text = input[_pos..textEnd];
            if (trimLeft) { text = text.TrimEnd(' ', '\t', '\r', '\n'); }
            if (text.Length > 0) { _tokens.Add(new TemplateToken(TokenKind.Text, _pos, text)); }
            if (open < 0) { break; }
            _pos = open + 2 + (trimLeft ? 2 : 0);
            if (input.AsSpan(_pos).StartsWith("/*")) { Comment(); continue; }
            _tokens.Add(new TemplateToken(TokenKind.LeftDelim, open, "{{"));
            InsideAction();
        }
        _tokens.Add(new TemplateToken(TokenKind.Eof, input.Length, ""));
        return _tokens;
    }

    private bool TrimMarkerAt(int at, bool before) => before
        ? at >= 2 && input[at - 1] == '-' && IsSpace(input[at - 2])
        : at + 1 < input.Length && input[at] == '-' && IsSpace(input[at + 1]);

    private static bool IsSpace(char c) => c is ' ' or '\t' or '\r' or '\n';

    private void Comment()
    {
        int end = input.IndexOf("*/", _pos + 2, StringComparison.Ordinal);
        if (end < 0) { throw Error("unclosed comment"); }
        _pos = end + 2;
        bool trimRight = TrimMarkerAt(_pos + 1, before: false) && input.AsSpan(_pos).StartsWith(" -}}");
        if (trimRight) { _pos += 2; }
        else if (!input.AsSpan(_pos).StartsWith("}}")) { throw Error("comment ends before closing delimiter"); }
        _pos += 2;
        if (trimRight) { SkipLeadingSpace(); }
    }

    private void SkipLeadingSpace()
    {
        while (_pos < input.Length && IsSpace(input[_pos])) { _pos++; }
    }

    private void InsideAction()
    {
        while (true)
        {
            if (_pos >= input.Length) { throw Error("unclosed action"); }
            if (input.AsSpan(_pos).StartsWith(" -}}") || input.AsSpan(_pos).StartsWith("\t-}}") || input.AsSpan(_pos).StartsWith("\n-}}"))
            {
                if (_parenDepth > 0) { throw Error("unclosed left paren"); }
                _tokens.Add(new TemplateToken(TokenKind.RightDelim, _pos + 2, "}}"));
                _pos += 4;
                SkipLeadingSpace();
                return;
            }
            if (input.AsSpan(_pos).StartsWith("}}"))
            {
                if (_parenDepth > 0) { throw Error("unclosed left paren"); }
                _tokens.Add(new TemplateToken(TokenKind.RightDelim, _pos, "}}"));
                _pos += 2;
                return;
            }
            char c = input[_pos];
            int start = _pos;
            if (IsSpace(c))
            {
                while (_pos < input.Length && IsSpace(input[_pos]) && !input.AsSpan(_pos).StartsWith(" -}}")) { _pos++; }
                if (_pos == start) { _pos++; }
                _tokens.Add(new TemplateToken(TokenKind.Space, start, input[start.._pos]));
            }
            else if (c == '|') { Add(TokenKind.Pipe, 1); }
            else if (c == ',') { Add(TokenKind.Comma, 1); }
            else if (c == '(') { _parenDepth++; Add(TokenKind.LeftParen, 1); }
            else if (c == ')')
            {
                if (--_parenDepth < 0) { throw Error($"unexpected right paren {Quote(")")}"); }
                Add(TokenKind.RightParen, 1);
            }
            else if (c == ':')
            {
                if (_pos + 1 >= input.Length || input[_pos + 1] != '=') { throw Error("expected :="); }
                Add(TokenKind.Declare, 2);
            }
            else if (c == '=') { Add(TokenKind.Assign, 1); }
            else if (c == '"') { QuotedString(); }
            else if (c == '`') { RawString(); }
            else if (c == '\'') { CharConstant(); }
            else if (c == '$') { Word(TokenKind.Variable, 1); }
            else if (c == '.')
            {
                if (_pos + 1 < input.Length && char.IsAsciiDigit(input[_pos + 1])) { NumberToken(); }
                else if (_pos + 1 < input.Length && IsWordChar(input[_pos + 1])) { Word(TokenKind.Field, 1); }
                else { Add(TokenKind.Dot, 1); }
            }
            else if (c is '+' or '-' || char.IsAsciiDigit(c)) { NumberToken(); }
            else if (IsWordChar(c))
            {
                Word(TokenKind.Identifier, 0);
                TemplateToken word = _tokens[^1];
                if (word.Text is "true" or "false") { _tokens[^1] = word with { Kind = TokenKind.Bool }; }
                else if (word.Text == "nil") { _tokens[^1] = word with { Kind = TokenKind.Nil }; }
            }
            else { throw Error($"unrecognized character in action: {Quote(c.ToString())}"); }
        }
    }

    private void Add(TokenKind kind, int length)
    {
        _tokens.Add(new TemplateToken(kind, _pos, input.Substring(_pos, length)));
        _pos += length;
    }

    private static bool IsWordChar(char c) => c == '_' || char.IsLetterOrDigit(c);

    private void Word(TokenKind kind, int skip)
    {
        int start = _pos;
        _pos += skip;
        while (_pos < input.Length && IsWordChar(input[_pos])) { _pos++; }
        _tokens.Add(new TemplateToken(kind, start, input[start.._pos]));
    }

    private void NumberToken()
    {
        int start = _pos;
        if (input[_pos] is '+' or '-') { _pos++; }
        while (_pos < input.Length && (char.IsAsciiLetterOrDigit(input[_pos]) || input[_pos] is '.' or '_' || (input[_pos] is '+' or '-' && input[_pos - 1] is 'e' or 'E'))) { _pos++; }
        string text = input[start.._pos];
        if (text is "+" or "-") { throw Error($"bad number syntax: {Quote(text)}"); }
        _tokens.Add(new TemplateToken(TokenKind.Number, start, text));
    }

    private void QuotedString()
    {
        int start = _pos++;
        var value = new StringBuilder();
        while (true)
        {
            if (_pos >= input.Length || input[_pos] == '\n') { throw Error("unterminated quoted string"); }
            char c = input[_pos++];
            if (c == '"') { break; }
            if (c != '\\') { value.Append(c); continue; }
            if (_pos >= input.Length) { throw Error("unterminated quoted string"); }
            char e = input[_pos++];
            switch (e)
            {
                case 'n': value.Append('\n'); break;
                case 't': value.Append('\t'); break;
                case 'r': value.Append('\r'); break;
                case '\\': value.Append('\\'); break;
                case '"': value.Append('"'); break;
                case '\'': value.Append('\''); break;
                case 'a': value.Append('\a'); break;
                case 'b': value.Append('\b'); break;
                case 'f': value.Append('\f'); break;
                case 'v': value.Append('\v'); break;
                case 'x' when _pos + 2 <= input.Length:
                    value.Append((char)int.Parse(input.AsSpan(_pos, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    _pos += 2;
                    break;
                case 'u' when _pos + 4 <= input.Length:
                    value.Append((char)int.Parse(input.AsSpan(_pos, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    _pos += 4;
                    break;
                default: throw Error($"invalid syntax: {Quote(input[start.._pos])}");
            }
        }
        _tokens.Add(new TemplateToken(TokenKind.String, start, input[start.._pos], value.ToString()));
    }

    private void RawString()
    {
        int start = _pos;
        int end = input.IndexOf('`', _pos + 1);
        if (end < 0) { throw Error("unterminated raw quoted string"); }
        _pos = end + 1;
        _tokens.Add(new TemplateToken(TokenKind.String, start, input[start.._pos], input[(start + 1)..end]));
    }

    private void CharConstant()
    {
        int start = _pos;
        int end = input.IndexOf('\'', _pos + 1);
        if (end < 0) { throw Error("unterminated character constant"); }
        _pos = end + 1;
        string body = input[(start + 1)..end];
        long value = body.Length > 0 ? body[0] : 0;
        _tokens.Add(new TemplateToken(TokenKind.Number, start, input[start.._pos], value.ToString(CultureInfo.InvariantCulture)));
    }

    private TemplateParseException Error(string message) => new($"template: :{Line(_pos)}: {message}");

    internal int Line(int pos) => 1 + input.AsSpan(0, Math.Min(pos, input.Length)).Count('\n');

    internal static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
