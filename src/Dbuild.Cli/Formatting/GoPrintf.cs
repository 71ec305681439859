using System.Globalization;
using System.Text;

namespace Dbuild.Cli.Formatting;

/// <summary>Go's <c>fmt.Sprintf</c> for the verbs templates use: <c>%v %s %d %q %t %x %X %f %%</c>, width, <c>-</c> and <c>0</c>.</summary>
internal static class GoPrintf
{
    public static string Format(string format, IReadOnlyList<object?> args)
    {
        var text = new StringBuilder();
        int next = 0;
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c != '%') { text.Append(c); continue; }
            if (++i >= format.Length) { text.Append("%!(NOVERB)"); break; }
            bool left = false, zero = false, plus = false;
            for (; i < format.Length && format[i] is '-' or '0' or '+' or ' ' or '#'; i++)
            {
                left |= format[i] == '-';
                zero |= format[i] == '0';
                plus |= format[i] == '+';
            }
            int width = 0;
            for (; i < format.Length && char.IsAsciiDigit(format[i]); i++) { width = width * 10 + format[i] - '0'; }
            int precision = -1;
            if (i < format.Length && format[i] == '.')
            {
                precision = 0;
                for (i++; i < format.Length && char.IsAsciiDigit(format[i]); i++) { precision = precision * 10 + format[i] - '0'; }
            }
            if (i >= format.Length) { text.Append("%!(NOVERB)"); break; }
            char verb = format[i];
            if (verb == '%') { text.Append('%'); continue; }
            if (next >= args.Count) { text.Append($"%!{verb}(MISSING)"); continue; }
            object? arg = args[next++];
            string formatted = Verb(verb, arg, precision, plus);
            if (formatted.Length < width)
            {
                string pad = new(zero && !left && verb is 'd' or 'f' or 'x' or 'X' ? '0' : ' ', width - formatted.Length);
                formatted = left ? formatted + pad : pad + formatted;
            }
            text.Append(formatted);
        }
        if (next < args.Count) { text.Append("%!(EXTRA ").Append(string.Join(", ", args.Skip(next).Select(a => $"{GoFormat.TypeName(a)}={GoFormat.Print(a)}"))).Append(')'); }
        return text.ToString();
    }

    private static string Verb(char verb, object? arg, int precision, bool plus) => (verb, arg) switch
    {
        ('v', _) => GoFormat.Print(arg),
        ('s', string s) => precision >= 0 && precision < s.Length ? s[..precision] : s,
        ('s', GoSlice or GoMap) => GoFormat.Print(arg),
        ('q', string s) => System.Text.Json.JsonSerializer.Serialize(s),
        ('d', long l) => (plus && l >= 0 ? "+" : "") + l.ToString(CultureInfo.InvariantCulture),
        ('x', long l) => l.ToString("x", CultureInfo.InvariantCulture),
        ('X', long l) => l.ToString("X", CultureInfo.InvariantCulture),
        ('x', string s) => Convert.ToHexStringLower(Encoding.UTF8.GetBytes(s)),
        ('t', bool b) => b ? "true" : "false",
        ('f', double d) => d.ToString("F" + (precision < 0 ? 6 : precision), CultureInfo.InvariantCulture),
        ('f', long l) => $"%!f(int={l})",
        _ => $"%!{verb}({GoFormat.TypeName(arg)}={GoFormat.Print(arg)})",
    };
}
