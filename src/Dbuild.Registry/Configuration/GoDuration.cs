using System.Globalization;

namespace Dbuild.Registry.Configuration;

/// <summary>Parses Go's <c>time.ParseDuration</c> syntax (<c>168h</c>, <c>1h30m</c>, <c>500ms</c>), which registry:2's config uses.</summary>
internal static class GoDuration
{
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text)) { return false; }
        ReadOnlySpan<char> s = text.Trim();
        if (s is "0") { return true; }
        bool negative = false;
        if (s[0] is '-' or '+') { negative = s[0] == '-'; s = s[1..]; }
        if (s.IsEmpty) { return false; }
        double totalTicks = 0;
        while (!s.IsEmpty)
        {
            int numberEnd = 0;
            while (numberEnd < s.Length && (char.IsAsciiDigit(s[numberEnd]) || s[numberEnd] == '.')) { numberEnd++; }
            if (numberEnd == 0 || !double.TryParse(s[..numberEnd], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number)) { return false; }
            s = s[numberEnd..];
            int unitEnd = 0;
            while (unitEnd < s.Length && !char.IsAsciiDigit(s[unitEnd]) && s[unitEnd] != '.') { unitEnd++; }
            double ticksPerUnit = s[..unitEnd] switch
            {
                "ns" => 0.01,
                "us" or "µs" or "μs" => TimeSpan.TicksPerMicrosecond,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                "h" => TimeSpan.TicksPerHour,
                _ => -1,
            };
            if (ticksPerUnit < 0) { return false; }
            totalTicks += number * ticksPerUnit;
            s = s[unitEnd..];
        }
        if (totalTicks > TimeSpan.MaxValue.Ticks) { return false; }
        value = TimeSpan.FromTicks((long)(negative ? -totalTicks : totalTicks));
        return true;
    }
}
