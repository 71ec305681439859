using System.Globalization;

namespace Dbuild.Dockerfile;

/// <summary>Go's <c>time.ParseDuration</c> ("1h30m", "300ms", "1.5s"), used by HEALTHCHECK options.</summary>
public static class GoDuration
{
    /// <summary>Parses a Go duration string.</summary>
    /// <exception cref="FormatException">The text is not a Go duration.</exception>
    public static TimeSpan Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string s = text;
        int pos = 0;
        bool negative = false;
        if (pos < s.Length && s[pos] is '-' or '+')
        {
            negative = s[pos] == '-';
            pos++;
        }
        if (s[pos..] == "0") { return TimeSpan.Zero; }
        if (pos == s.Length) { throw Invalid(text); }
        decimal totalNs = 0;
        while (pos < s.Length)
        {
            int start = pos;
            while (pos < s.Length && (char.IsAsciiDigit(s[pos]) || s[pos] == '.')) { pos++; }
            string number = s[start..pos];
            if (number.Length == 0 || number == "." || number.Count(c => c == '.') > 1) { throw Invalid(text); }
            int unitStart = pos;
            while (pos < s.Length && !char.IsAsciiDigit(s[pos]) && s[pos] != '.') { pos++; }
            string unit = s[unitStart..pos];
            decimal multiplier = unit switch
            {
                "ns" => 1m,
                "us" or "µs" or "μs" => 1_000m,
                "ms" => 1_000_000m,
                "s" => 1_000_000_000m,
                "m" => 60_000_000_000m,
                "h" => 3_600_000_000_000m,
                "" => throw new FormatException($"time: missing unit in duration {GoText.Quote(text)}"),
                _ => throw new FormatException($"time: unknown unit {GoText.Quote(unit)} in duration {GoText.Quote(text)}"),
            };
            totalNs += decimal.Parse(number.StartsWith('.') ? "0" + number : number.EndsWith('.') ? number + "0" : number,
                NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture) * multiplier;
            if (totalNs > long.MaxValue) { throw new FormatException($"time: invalid duration {GoText.Quote(text)}"); }
        }
        long ticks = (long)(totalNs / 100m);
        return TimeSpan.FromTicks(negative ? -ticks : ticks);
    }

    private static FormatException Invalid(string text) => new($"time: invalid duration {GoText.Quote(text)}");
}
