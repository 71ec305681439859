using System.Globalization;

namespace Dbuild.Solver.Cache;

/// <summary>Go's <c>time.ParseDuration</c> syntax, which docker's filters and BuildKit's config use: <c>24h</c>, <c>2h30m</c>, <c>1.5h</c>, <c>90s</c>, <c>0</c>.</summary>
public static class GoDuration
{
    private static readonly (string Unit, double Ticks)[] Units =
    [
        ("ns", 0.01), ("us", 10), ("µs", 10), ("ms", TimeSpan.TicksPerMillisecond), ("s", TimeSpan.TicksPerSecond),
        ("m", TimeSpan.TicksPerMinute), ("h", TimeSpan.TicksPerHour),
    ];

    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrEmpty(text)) { return false; }
        ReadOnlySpan<char> rest = text;
        bool negative = rest[0] == '-';
        if (rest[0] is '-' or '+') { rest = rest[1..]; }
        if (rest is "0") { return true; }
        if (rest.IsEmpty) { return false; }
        double ticks = 0;
        while (!rest.IsEmpty)
        {
            int number = 0;
            while (number < rest.Length && (char.IsAsciiDigit(rest[number]) || rest[number] == '.')) { number++; }
            if (number == 0 || !double.TryParse(rest[..number], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value)) { return false; }
            rest = rest[number..];
            int unit = 0;
            while (unit < rest.Length && !char.IsAsciiDigit(rest[unit]) && rest[unit] != '.') { unit++; }
            string name = rest[..unit].ToString();
            (string Unit, double Ticks) match = Array.Find(Units, u => u.Unit == name);
            if (match.Unit is null) { return false; } // a missing or unknown unit
            ticks += value * match.Ticks;
            rest = rest[unit..];
        }
        if (ticks > TimeSpan.MaxValue.Ticks) { return false; }
        duration = TimeSpan.FromTicks((long)(negative ? -ticks : ticks));
        return true;
    }
}
