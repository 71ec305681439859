using System.Globalization;
using System.Text;

namespace Dbuild.Dockerfile;

/// <summary>
/// Reads the exec form the way Go's <c>json.Unmarshal</c> into <c>[]interface{}</c> does: the whole text must be one
/// JSON array (surrounding JSON whitespace allowed). Any valid JSON value is accepted as an element so that a
/// non-string element can be told apart from invalid JSON.
/// </summary>
internal static class GoJson
{
    public enum Outcome { NotJson, NotStringArray, Ok }

    public static Outcome TryParseStringArray(string text, out List<string> values)
    {
        values = [];
        int pos = 0;
        bool allStrings = true;
        SkipWhitespace(text, ref pos);
        if (pos >= text.Length || text[pos] != '[') { return Outcome.NotJson; }
        pos++;
        SkipWhitespace(text, ref pos);
        if (pos < text.Length && text[pos] == ']')
        {
            pos++;
        }
        else
        {
            while (true)
            {
                SkipWhitespace(text, ref pos);
                if (pos < text.Length && text[pos] == '"')
                {
                    string? s = ReadString(text, ref pos);
                    if (s is null) { return Outcome.NotJson; }
                    values.Add(s);
                }
                else
                {
                    if (!SkipValue(text, ref pos, 0)) { return Outcome.NotJson; }
                    allStrings = false;
                }
                SkipWhitespace(text, ref pos);
                if (pos >= text.Length) { return Outcome.NotJson; }
                if (text[pos] == ',') { pos++; continue; }
                if (text[pos] == ']') { pos++; break; }
                return Outcome.NotJson;
            }
        }
        SkipWhitespace(text, ref pos);
        if (pos != text.Length) { return Outcome.NotJson; }
        return allStrings ? Outcome.Ok : Outcome.NotStringArray;
    }

    private static void SkipWhitespace(string text, ref int pos)
    {
        while (pos < text.Length && text[pos] is ' ' or '\t' or '\n' or '\r') { pos++; }
    }

    private static bool SkipValue(string text, ref int pos, int depth)
    {
        if (depth > 10000 || !System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack()) { return false; }
        SkipWhitespace(text, ref pos);
        if (pos >= text.Length) { return false; }
        char c = text[pos];
        switch (c)
        {
            case '"':
                return ReadString(text, ref pos) is not null;
            case '[':
                pos++;
                SkipWhitespace(text, ref pos);
                if (pos < text.Length && text[pos] == ']') { pos++; return true; }
                while (true)
                {
                    if (!SkipValue(text, ref pos, depth + 1)) { return false; }
                    SkipWhitespace(text, ref pos);
                    if (pos >= text.Length) { return false; }
                    if (text[pos] == ',') { pos++; continue; }
                    if (text[pos] == ']') { pos++; return true; }
                    return false;
                }
            case '{':
                pos++;
                SkipWhitespace(text, ref pos);
                if (pos < text.Length && text[pos] == '}') { pos++; return true; }
                while (true)
                {
                    SkipWhitespace(text, ref pos);
                    if (pos >= text.Length || text[pos] != '"' || ReadString(text, ref pos) is null) { return false; }
                    SkipWhitespace(text, ref pos);
                    if (pos >= text.Length || text[pos] != ':') { return false; }
                    pos++;
                    if (!SkipValue(text, ref pos, depth + 1)) { return false; }
                    SkipWhitespace(text, ref pos);
                    if (pos >= text.Length) { return false; }
                    if (text[pos] == ',') { pos++; continue; }
                    if (text[pos] == '}') { pos++; return true; }
                    return false;
                }
            case 't': return Literal(text, ref pos, "true");
            case 'f': return Literal(text, ref pos, "false");
            case 'n': return Literal(text, ref pos, "null");
            default: return SkipNumber(text, ref pos);
        }
    }

    private static bool Literal(string text, ref int pos, string literal)
    {
        if (string.CompareOrdinal(text, pos, literal, 0, literal.Length) != 0) { return false; }
        pos += literal.Length;
        return true;
    }

    private static bool SkipNumber(string text, ref int pos)
    {
        int p = pos;
        if (p < text.Length && text[p] == '-') { p++; }
        if (p >= text.Length) { return false; }
        if (text[p] == '0') { p++; }
        else if (char.IsAsciiDigit(text[p]) && text[p] != '0') { while (p < text.Length && char.IsAsciiDigit(text[p])) { p++; } }
        else { return false; }
        if (p < text.Length && text[p] == '.')
        {
            p++;
            if (p >= text.Length || !char.IsAsciiDigit(text[p])) { return false; }
            while (p < text.Length && char.IsAsciiDigit(text[p])) { p++; }
        }
        if (p < text.Length && text[p] is 'e' or 'E')
        {
            p++;
            if (p < text.Length && text[p] is '+' or '-') { p++; }
            if (p >= text.Length || !char.IsAsciiDigit(text[p])) { return false; }
            while (p < text.Length && char.IsAsciiDigit(text[p])) { p++; }
        }
        pos = p;
        return true;
    }

    private static string? ReadString(string text, ref int pos)
    {
        int p = pos + 1;
        int start = p;
        while (p < text.Length && text[p] != '"' && text[p] != '\\' && text[p] >= 0x20) { p++; }
        if (p < text.Length && text[p] == '"')
        {
            pos = p + 1;
            return ReplaceLoneSurrogates(text[start..p]);
        }
        var sb = new StringBuilder();
        sb.Append(text, start, p - start);
        while (true)
        {
            if (p >= text.Length) { return null; }
            char c = text[p];
            if (c == '"') { pos = p + 1; return ReplaceLoneSurrogates(sb.ToString()); }
            if (c < 0x20) { return null; }
            if (c != '\\') { sb.Append(c); p++; continue; }
            p++;
            if (p >= text.Length) { return null; }
            char e = text[p++];
            switch (e)
            {
                case '"': sb.Append('"'); break;
                case '\\': sb.Append('\\'); break;
                case '/': sb.Append('/'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'u':
                    if (p + 4 > text.Length || !int.TryParse(text.AsSpan(p, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code)) { return null; }
                    p += 4;
                    sb.Append((char)code);
                    break;
                default: return null;
            }
        }
    }

    private static string ReplaceLoneSurrogates(string s)
    {
        if (!s.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF')) { return s; }
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { sb.Append(c).Append(s[i + 1]); i++; }
            else if (char.IsSurrogate(c)) { sb.Append('\uFFFD'); }
            else { sb.Append(c); }
        }
        return sb.ToString();
    }
}
