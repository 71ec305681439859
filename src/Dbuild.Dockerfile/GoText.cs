using System.Globalization;
using System.Text;

namespace Dbuild.Dockerfile;

/// <summary>Go's string helpers where BuildKit's output depends on them (strconv.Quote, unicode.IsSpace).</summary>
internal static class GoText
{
    /// <summary>Go's <c>unicode.IsSpace</c>.</summary>
    public static bool IsSpace(int rune) => rune switch
    {
        '\t' or '\n' or '\v' or '\f' or '\r' or ' ' or 0x85 or 0xA0 => true,
        < 0x100 => false,
        0x1680 or (>= 0x2000 and <= 0x200A) or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    /// <summary>Go's <c>strings.TrimSpace</c>.</summary>
    public static string TrimSpace(string s)
    {
        int start = 0, end = s.Length;
        while (start < end && IsSpace(s[start])) { start++; }
        while (end > start && IsSpace(s[end - 1])) { end--; }
        return start == 0 && end == s.Length ? s : s[start..end];
    }

    /// <summary>Go's <c>strings.TrimLeftFunc(s, unicode.IsSpace)</c>.</summary>
    public static string TrimLeftSpace(string s)
    {
        int start = 0;
        while (start < s.Length && IsSpace(s[start])) { start++; }
        return start == 0 ? s : s[start..];
    }

    /// <summary>Go's <c>strconv.Quote</c> for a string of valid UTF-16 (lone surrogates print as U+FFFD would).</summary>
    public static void Quote(StringBuilder sb, string s)
    {
        sb.Append('"');
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            int rune = c;
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                rune = char.ConvertToUtf32(c, s[i + 1]);
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                rune = 0xFFFD;
            }
            switch (rune)
            {
                case '"': sb.Append("\\\""); continue;
                case '\\': sb.Append("\\\\"); continue;
                case '\a': sb.Append("\\a"); continue;
                case '\b': sb.Append("\\b"); continue;
                case '\f': sb.Append("\\f"); continue;
                case '\n': sb.Append("\\n"); continue;
                case '\r': sb.Append("\\r"); continue;
                case '\t': sb.Append("\\t"); continue;
                case '\v': sb.Append("\\v"); continue;
            }
            if (IsPrint(rune))
            {
                if (rune > 0xFFFF) { sb.Append(char.ConvertFromUtf32(rune)); } else { sb.Append((char)rune); }
            }
            else if (rune < ' ' || rune == 0x7F)
            {
                sb.Append("\\x").Append(rune.ToString("x2", CultureInfo.InvariantCulture));
            }
            else if (rune <= 0xFFFF)
            {
                sb.Append("\\u").Append(rune.ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append("\\U").Append(rune.ToString("x8", CultureInfo.InvariantCulture));
            }
        }
        sb.Append('"');
    }

    public static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2);
        Quote(sb, s);
        return sb.ToString();
    }

    /// <summary>Approximates Go's <c>strconv.IsPrint</c>: letters, marks, numbers, punctuation, symbols and U+0020.</summary>
    private static bool IsPrint(int rune)
    {
        if (rune < 0x7F) { return rune >= 0x20; }
        if (rune < 0xA1) { return false; }
        if (rune == 0xAD) { return false; }
        UnicodeCategory category = rune <= 0xFFFF ? CharUnicodeInfo.GetUnicodeCategory((char)rune) : CharUnicodeInfo.GetUnicodeCategory(rune);
        return category switch
        {
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
                or UnicodeCategory.OtherNotAssigned or UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator
                or UnicodeCategory.ParagraphSeparator => false,
            _ => true,
        };
    }
}
