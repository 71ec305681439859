using System.Globalization;
using System.Text.RegularExpressions;

namespace Dbuild.Solver.Cache;

/// <summary>
/// Sizes as docker's flags take them (go-units <c>RAMInBytes</c>: <c>10GB</c>, <c>512m</c>, <c>1.5GiB</c>, <c>4096</c>;
/// k, m, g, t, p are powers of 1024 whatever the suffix), and BuildKit's config also a share of the disk (<c>10%</c>).
/// </summary>
public static partial class ByteSize
{
    [GeneratedRegex(@"^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>Parses a size; false for anything else (a negative number, an unknown unit).</summary>
    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        Match match = Pattern().Match(text?.Trim() ?? "");
        if (!match.Success) { return false; }
        double value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        int power = match.Groups[2].Success ? "kmgtp".IndexOf(char.ToLowerInvariant(match.Groups[2].Value[0]), StringComparison.Ordinal) + 1 : 0;
        double result = value * Math.Pow(1024, power);
        if (result >= long.MaxValue) { return false; }
        bytes = (long)result;
        return true;
    }

    /// <summary>Parses a size or a percentage (<c>10%</c>, returned as <paramref name="percent"/> with <paramref name="bytes"/> 0).</summary>
    public static bool TryParseOrPercent(string? text, out long bytes, out int percent)
    {
        percent = 0;
        string trimmed = text?.Trim() ?? "";
        if (trimmed.EndsWith('%'))
        {
            bytes = 0;
            return int.TryParse(trimmed.AsSpan(0, trimmed.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out percent) && percent is > 0 and <= 100;
        }
        return TryParse(trimmed, out bytes);
    }
}
