using System.Globalization;

namespace Dbuild.Cli.Commands;

/// <summary>Sizes and durations as docker and buildx print them (go-units <c>HumanSize</c> and <c>HumanDuration</c>).</summary>
internal static class HumanUnits
{
    private static readonly string[] SizeUnits = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];

    /// <summary>Decimal units, four significant digits: <c>0B</c>, <c>109B</c>, <c>1.984MB</c>, <c>8.1GB</c>.</summary>
    public static string Size(long bytes)
    {
        double size = bytes;
        int unit = 0;
        while (size >= 1000 && unit < SizeUnits.Length - 1)
        {
            size /= 1000;
            unit++;
        }
        return size.ToString("G4", CultureInfo.InvariantCulture) + SizeUnits[unit];
    }

    /// <summary>
    /// go-units <c>HumanSizeWithPrecision(size, 3)</c>, what <c>docker images</c> and <c>docker history</c> print:
    /// <c>1.98MB</c>, <c>4B</c>, <c>72.8MB</c> (Go's <c>%.3g</c>, so <c>999.7kB</c> is <c>1e+03kB</c>).
    /// </summary>
    public static string SizeThreeDigits(long bytes)
    {
        double size = bytes;
        int unit = 0;
        while (size >= 1000 && unit < SizeUnits.Length - 1)
        {
            size /= 1000;
            unit++;
        }
        return size.ToString("G3", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal) + SizeUnits[unit];
    }

    /// <summary>An elapsed time: <c>Less than a second</c>, <c>3 minutes</c>, <c>About an hour</c>, <c>2 days</c>, <c>5 weeks</c>.</summary>
    public static string Duration(TimeSpan elapsed)
    {
        long seconds = (long)elapsed.TotalSeconds;
        long hours = (long)elapsed.TotalHours;
        return seconds switch
        {
            < 1 => "Less than a second",
            1 => "1 second",
            < 60 => $"{seconds} seconds",
            < 120 => "About a minute",
            < 3600 => $"{(long)elapsed.TotalMinutes} minutes",
            _ => hours switch
            {
                1 => "About an hour",
                < 48 => $"{hours} hours",
                < 24 * 7 * 2 => $"{hours / 24} days",
                < 24 * 30 * 2 => $"{hours / 24 / 7} weeks",
                < 24 * 365 * 2 => $"{hours / 24 / 30} months",
                _ => $"{hours / 24 / 365} years",
            },
        };
    }
}
